"""The momentum part of eq. (1) in the disk: a banded linear system per Bessel mode.

After the z-integration (:mod:`crknee.propagation.halo`), each mode amplitude
psi_i(p) at z = 0 obeys the steady 1D equation in momentum (M01 App. A, Strong &
Moskalenko 1998 ApJ 509, 212 eq. 1)

    C_i(p) psi - d/dp [ p^2 D(p) d/dp (psi / p^2) ] - d/dp [ b(p) psi ] = q_i(p)

with C_i the total removal rate [1/Myr], b = -dp/dt > 0 the momentum-loss rate
[GeV/Myr] and D the momentum diffusion coefficient [GeV^2/Myr].  It is discretised by
finite volumes on the nodes p_j (n nodes, faces at the geometric means, the two end
faces half a log-step outside), which conserves particles exactly (the content of cell
j is psi_j times its power-law weighted width, :func:`geometry`):

* power-law weighting: face values and slopes are taken of u = psi p^S_REF (S_REF =
  2.7, the slope of the Galactic spectra), which is constant for psi ~ p^-2.7, so the
  scheme is exact for that slope and second order (error ~ ((s - S_REF) dx)^2) for any
  other local slope s;
* diffusive flux through an inner face: -p_f^2 D_f d/dp(psi/p^2) with
  psi/p^2 = u p^-(S_REF+2): d/dp = p^-(S_REF+2) [du/dp - (S_REF+2) u/p], du/dp by the
  difference of the two nodes and u by their mean; D_f the geometric mean of the node
  values; zero through the end faces (no particle leaves by momentum diffusion);
* loss flux -b psi through a face: b_f (geometric mean of the neighbours; the node's b
  at the bottom face) times psi_f from u extrapolated linearly in ln p from the two
  nodes above the face (second-order upwind, stable for the steady downward-advecting
  problem); zero through the top face, free outflow through the bottom one.

The matrix has one sub- and two super-diagonals.  The modes are independent: they are
stacked into one block-diagonal banded system and solved at once for any number of
right-hand sides (:func:`solve`): Gaussian elimination without pivoting, compiled
(:func:`_eliminate`; Golub & Van Loan 2013, Matrix Computations, 4th ed., Sec. 4.3),
which is stable for this operator (the removal rates on the diagonal and the outflowing
loss and diffusion terms keep it diagonally dominant, so no pivot shrinks); a pivot that
does shrink below :data:`PIVOT_RTOL` of its row hands the system to LAPACK's partially
pivoted band solver (:func:`scipy.linalg.solve_banded`).
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.linalg import solve_banded

#: Reference slope of the power-law weighting, psi ~ p^-S_REF (local Galactic spectra).
S_REF = 2.7
#: Smallest ratio of a pivot's magnitude to the summed magnitudes of its original row's
#: entries that the elimination accepts without pivoting.
PIVOT_RTOL = 1e-8


def geometry(p):
    """Faces and effective widths of the momentum cells of nodes ``p`` [GeV] (increasing
    along the last axis; leading axes are independent grids).

    Returns (p_face (..., n+1), width (..., n), theta (..., n+1)).  ``width`` is the
    power-law weighted cell size int_cell (p/p_j)^-S_REF dp, so that a node value psi_j
    times it is the exact cell content for psi ~ p^-S_REF; theta_f is the extrapolation
    weight of the second-order upwind value at face f (0 where first order is used).
    """
    x = np.log(p)
    n = x.shape[-1]
    xf = np.empty(x.shape[:-1] + (n + 1,))
    xf[..., 1:-1] = 0.5 * (x[..., 1:] + x[..., :-1])
    xf[..., 0] = x[..., 0] - 0.5 * (x[..., 1] - x[..., 0])
    xf[..., -1] = x[..., -1] + 0.5 * (x[..., -1] - x[..., -2])
    pf = np.exp(xf)
    width = p**S_REF * (pf[..., :-1] ** (1.0 - S_REF) - pf[..., 1:] ** (1.0 - S_REF)) / (S_REF - 1.0)
    theta = np.zeros(xf.shape)
    # face f uses the nodes f and f+1 (those above it): value = (1+t) u_f - t u_{f+1}
    theta[..., : n - 1] = (x[..., : n - 1] - xf[..., : n - 1]) / (x[..., 1:] - x[..., :-1])
    return pf, width, theta


def assemble(p, C, b, D):
    """Banded matrix (l=1, u=2) of the stacked mode systems.

    ``C`` (..., n) [1/Myr]: one system per index of the leading axes (e.g. (m, n), or
    (nuclide, mode, n)); ``p`` [GeV], ``b`` [GeV/Myr] and ``D`` [GeV^2/Myr] broadcast
    against it (a grid shared by all rows is (n,); one per nuclide (N, 1, n)), so the
    grid geometry is computed once per distinct grid.  Returns ``ab`` of shape
    (4, C.size) in :func:`scipy.linalg.solve_banded` layout (row 0: second
    super-diagonal, 2: diagonal, 3: sub-diagonal), rows in C's C order; rows of the stack
    are uncoupled, so any run of whole rows is itself a valid banded matrix.
    """
    C = np.atleast_2d(C)
    n = C.shape[-1]
    shape = C.shape
    b = np.broadcast_to(b, shape)
    D = np.broadcast_to(D, shape)
    pf, w, th = geometry(p)
    wn = p**S_REF  # u_j = psi_j * wn_j
    wf = pf ** (-S_REF)  # psi_f = wf * u_f
    diag = C.copy()
    up1 = np.zeros(shape)
    up2 = np.zeros(shape)
    low = np.zeros(shape)
    # loss flux: row j gets (G_j - G_{j+1}) / w_j with the face values
    # G_f = b_f wf_f [(1+t_f) u_f - t_f u_{f+1}] (faces 0..n-1; G_n = 0)
    bf = np.empty(shape)
    bf[..., 0] = b[..., 0]
    bf[..., 1:] = np.sqrt(b[..., 1:] * b[..., :-1])
    g = bf * wf[..., :n]  # face f = 0..n-1
    diag += g * ((1.0 + th[..., :n]) * wn / w)
    up1[..., :-1] -= g[..., :-1] * (th[..., : n - 1] * wn[..., 1:] / w[..., :-1])
    up1[..., :-1] -= g[..., 1:] * ((1.0 + th[..., 1:n]) * wn[..., 1:] / w[..., :-1])
    up2[..., :-2] += g[..., 1:-1] * (th[..., 1 : n - 1] * wn[..., 2:] / w[..., :-2])
    # momentum diffusion through the inner faces 1..n-1:
    # F_f = -p_f^2 D_f pf^-(S+2) [(u_f - u_{f-1})/(p_f - p_{f-1}) - (S+2)(u_f + u_{f-1})/(2 p_f)]
    s2 = S_REF + 2.0
    pin = pf[..., 1:-1]
    dp = np.diff(p, axis=-1)
    kap = np.sqrt(D[..., 1:] * D[..., :-1])  # times pin^2 pin^-(S+2), folded in below
    geo = pin**2 * pin ** (-s2)
    hi = kap * (geo * (1.0 / dp - 0.5 * s2 / pin) * wn[..., 1:])  # F_f coefficient (negated) on psi_f
    lo = kap * (geo * (-1.0 / dp - 0.5 * s2 / pin) * wn[..., :-1])  # on psi_{f-1}: F_f = -(hi psi_f + lo psi_{f-1})
    # row j: (F_{j+1} - F_j)/w_j ; F_{j+1} involves psi_{j+1} (hi) and psi_j (lo)
    diag[..., :-1] -= lo / w[..., :-1]
    up1[..., :-1] -= hi / w[..., :-1]
    diag[..., 1:] += hi / w[..., 1:]
    low[..., 1:] += lo / w[..., 1:]
    size = diag.size
    ab = np.zeros((4, size))
    ab[0, 2:] = up2.ravel()[:-2]
    ab[1, 1:] = up1.ravel()[:-1]
    ab[2] = diag.ravel()
    ab[3, :-1] = low.ravel()[1:]
    return ab


@numba.njit(cache=True)
def _eliminate(ab, rhs, out):
    """Solve the (l=1, u=2) band system ``ab`` (solve_banded layout, not modified) for the
    columns of ``rhs`` (N, k) into ``out`` (N, k) without pivoting.  False (``out``
    undefined) when a pivot falls below PIVOT_RTOL of its original row's absolute sum."""
    n, k = rhs.shape
    diag = np.empty(n)
    up1 = np.empty(n)
    for j in range(n):
        diag[j] = ab[2, j]
        up1[j] = ab[1, j + 1] if j + 1 < n else 0.0
    for c in range(k):
        out[0, c] = rhs[0, c]
    for j in range(n):
        scale = abs(ab[2, j]) + abs(up1[j])
        if j + 2 < n:
            scale += abs(ab[0, j + 2])
        if j > 0:
            scale += abs(ab[3, j - 1])
        if not abs(diag[j]) > PIVOT_RTOL * scale:
            return False
        if j + 1 < n:
            f = ab[3, j] / diag[j]  # row j+1's sub-diagonal entry over the pivot
            diag[j + 1] -= f * up1[j]
            if j + 2 < n:
                up1[j + 1] -= f * ab[0, j + 2]
            for c in range(k):
                out[j + 1, c] = rhs[j + 1, c] - f * out[j, c]
    for j in range(n - 1, -1, -1):
        for c in range(k):
            x = out[j, c]
            if j + 1 < n:
                x -= up1[j] * out[j + 1, c]
            if j + 2 < n:
                x -= ab[0, j + 2] * out[j + 2, c]
            out[j, c] = x / diag[j]
    return True


def solve(ab, rhs):
    """Solve the stacked system for ``rhs`` of shape (m, n, k): returns (m, n, k)
    (module docstring: compiled elimination; LAPACK where a pivot shrinks)."""
    m, n, k = rhs.shape
    b = np.ascontiguousarray(rhs.reshape(m * n, k), dtype=float)
    out = np.empty_like(b)
    if not _eliminate(np.ascontiguousarray(ab, dtype=float), b, out):
        out = solve_banded((1, 2), ab, b, check_finite=False)
    return out.reshape(m, n, k)
