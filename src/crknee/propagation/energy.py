"""The momentum part of eq. (1) in the disk: a banded linear system per Bessel mode.

After the z-integration (:mod:`crknee.propagation.halo`), each mode amplitude
psi_i(p) at z = 0 obeys the steady 1D equation in momentum (M01 eq. A.9, Strong &
Moskalenko 1998 ApJ 509, 212 eq. 1)

    C_i(p) psi - d/dp [ p^2 D(p) d/dp (psi / p^2) ] - d/dp [ b(p) psi ] = q_i(p)

with C_i the total removal rate [1/Myr], b = -dp/dt > 0 the momentum-loss rate
[GeV/Myr] and D the momentum diffusion coefficient [GeV^2/Myr].  It is discretised by
finite volumes on the nodes p_j (n nodes, faces at the geometric means, the two end
faces half a log-step outside), which conserves particles exactly:

* diffusive flux through an inner face: -p_f^2 D_f (f_{j+1} - f_j)/(p_{j+1} - p_j),
  f = psi/p^2, D_f the geometric mean of the node values; zero through the end faces
  (no particle leaves the grid by momentum diffusion);
* loss flux -b psi through a face taken from the two nodes above it by linear
  extrapolation in ln p (second-order upwind, stable and monotone for the steady,
  downward-advecting problem); zero through the top face, free outflow at the bottom.

The matrix has one sub- and two super-diagonals.  The modes are independent: they are
stacked into one block-diagonal banded system and solved with one LAPACK call
(:func:`scipy.linalg.solve_banded`) for any number of right-hand sides.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded


def geometry(p):
    """Faces and widths of the momentum cells of nodes ``p`` [GeV] (increasing).

    Returns (p_face (n+1,), width (n,), theta (n+1,)): theta_f is the extrapolation
    weight of the second-order upwind value at face f (0 where first order is used).
    """
    x = np.log(p)
    xf = np.empty(x.size + 1)
    xf[1:-1] = 0.5 * (x[1:] + x[:-1])
    xf[0] = x[0] - 0.5 * (x[1] - x[0])
    xf[-1] = x[-1] + 0.5 * (x[-1] - x[-2])
    pf = np.exp(xf)
    theta = np.zeros(x.size + 1)
    # face f uses the nodes f and f+1 (those above it): value = (1+t) G_f - t G_{f+1}
    theta[: x.size - 1] = (x[: x.size - 1] - xf[: x.size - 1]) / (x[1:] - x[:-1])
    return pf, np.diff(pf), theta


def assemble(p, C, b, D):
    """Banded matrix (l=1, u=2) of the stacked mode systems.

    ``p`` (n,) [GeV]; ``C`` (m, n) [1/Myr]; ``b`` (n,) or (m, n) [GeV/Myr]; ``D`` (m, n)
    [GeV^2/Myr].  Returns ``ab`` of shape (4, m n) in :func:`scipy.linalg.solve_banded`
    layout (row 0: second super-diagonal, 2: diagonal, 3: sub-diagonal).
    """
    C = np.atleast_2d(C)
    m, n = C.shape
    b = np.broadcast_to(b, (m, n))
    D = np.broadcast_to(D, (m, n))
    pf, w, th = geometry(p)
    diag = C.copy()
    up1 = np.zeros((m, n))
    up2 = np.zeros((m, n))
    low = np.zeros((m, n))
    # loss flux: row j gets (G_face_j - G_face_{j+1}) / w_j, G_face_f = (1+t_f) b_f psi_f - t_f b_{f+1} psi_{f+1}
    diag += (1.0 + th[:n]) * b / w
    up1[:, :-1] -= th[: n - 1] * b[:, 1:] / w[:-1]
    up1[:, :-1] -= (1.0 + th[1:n]) * b[:, 1:] / w[:-1]
    up2[:, :-2] += th[1 : n - 1] * b[:, 2:] / w[:-2]
    # momentum diffusion through the inner faces 1..n-1
    kappa = pf[1:-1] ** 2 * np.sqrt(D[:, 1:] * D[:, :-1]) / np.diff(p)   # (m, n-1)
    p2 = p * p
    diag[:, :-1] += kappa / p2[:-1] / w[:-1]
    diag[:, 1:] += kappa / p2[1:] / w[1:]
    up1[:, :-1] -= kappa / p2[1:] / w[:-1]
    low[:, 1:] -= kappa / p2[:-1] / w[1:]
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
