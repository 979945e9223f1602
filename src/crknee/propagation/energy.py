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
stacked into one block-diagonal banded system and solved with one LAPACK call
(:func:`scipy.linalg.solve_banded`) for any number of right-hand sides.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded

#: Reference slope of the power-law weighting, psi ~ p^-S_REF (local Galactic spectra).
S_REF = 2.7


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

    ``p`` (n,) [GeV], or (m, n) for one grid per row; ``C`` (m, n) [1/Myr]; ``b`` (n,) or
    (m, n) [GeV/Myr]; ``D`` (m, n) [GeV^2/Myr].  Returns ``ab`` of shape (4, m n) in
    :func:`scipy.linalg.solve_banded` layout (row 0: second super-diagonal, 2: diagonal,
    3: sub-diagonal); rows of the stack are uncoupled, so any run of whole rows (columns
    j m0 n ... j m1 n of ``ab``) is itself a valid banded matrix.
    """
    C = np.atleast_2d(C)
    m, n = C.shape
    b = np.broadcast_to(b, (m, n))
    D = np.broadcast_to(D, (m, n))
    pf, w, th = geometry(p)
    wn = p**S_REF  # u_j = psi_j * wn_j
    wf = pf ** (-S_REF)  # psi_f = wf * u_f
    diag = C.copy()
    up1 = np.zeros((m, n))
    up2 = np.zeros((m, n))
    low = np.zeros((m, n))
    # loss flux: row j gets (G_j - G_{j+1}) / w_j with the face values
    # G_f = b_f wf_f [(1+t_f) u_f - t_f u_{f+1}] (faces 0..n-1; G_n = 0)
    bf = np.empty((m, n))
    bf[:, 0] = b[:, 0]
    bf[:, 1:] = np.sqrt(b[:, 1:] * b[:, :-1])
    g = bf * wf[..., :n]  # (m, n): face f = 0..n-1
    diag += g * (1.0 + th[..., :n]) * wn / w
    up1[:, :-1] -= g[:, :-1] * th[..., : n - 1] * wn[..., 1:] / w[..., :-1]
    up1[:, :-1] -= g[:, 1:] * (1.0 + th[..., 1:n]) * wn[..., 1:] / w[..., :-1]
    up2[:, :-2] += g[:, 1:-1] * th[..., 1 : n - 1] * wn[..., 2:] / w[..., :-2]
    # momentum diffusion through the inner faces 1..n-1:
    # F_f = -p_f^2 D_f pf^-(S+2) [(u_f - u_{f-1})/(p_f - p_{f-1}) - (S+2)(u_f + u_{f-1})/(2 p_f)]
    s2 = S_REF + 2.0
    pin = pf[..., 1:-1]
    kap = pin**2 * np.sqrt(D[:, 1:] * D[:, :-1]) * pin ** (-s2)  # (m, n-1)
    dp = np.diff(p, axis=-1)
    hi = kap * (1.0 / dp - 0.5 * s2 / pin) * wn[..., 1:]  # F_f coefficient (negated) on psi_f
    lo = kap * (-1.0 / dp - 0.5 * s2 / pin) * wn[..., :-1]  # ... on psi_{f-1};  F_f = -(hi psi_f + lo psi_{f-1})
    # row j: (F_{j+1} - F_j)/w_j ; F_{j+1} involves psi_{j+1} (hi) and psi_j (lo)
    diag[:, :-1] -= lo / w[..., :-1]
    up1[:, :-1] -= hi / w[..., :-1]
    diag[:, 1:] += hi / w[..., 1:]
    low[:, 1:] += lo / w[..., 1:]
    ab = np.zeros((4, m * n))
    ab[0, 2:] = up2.ravel()[:-2]
    ab[1, 1:] = up1.ravel()[:-1]
    ab[2] = diag.ravel()
    ab[3, :-1] = low.ravel()[1:]
    return ab


def solve(ab, rhs):
    """Solve the stacked system for ``rhs`` of shape (m, n, k): returns (m, n, k)."""
    m, n, k = rhs.shape
    out = solve_banded((1, 2), ab, rhs.reshape(m * n, k), overwrite_ab=True, check_finite=False)
    return out.reshape(m, n, k)
