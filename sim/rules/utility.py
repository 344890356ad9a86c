"""Utilities over outcomes, the trust discount on promised gains, and the compromise model.

Pure numpy functions; no Mesa. Shapes: ``n`` actors, ``m`` issues, outcomes on [0, 1].
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def issue_utilities(outcome: Array, position: Array, salience: Array, risk: Array | float = 1.0) -> Array:
    """Per-issue utility ``u_ij = -s_ij * |x_j - p_ij| ** r_i``.

    Spatial (Euclidean-city-block) preferences weighted by salience, as in Bueno de Mesquita's
    expected utility model and Stokman's exchange model. ``r = 1`` is risk-neutral and linear in
    distance; ``r > 1`` makes the loss convex, i.e. risk-averse (a documented trait).
    ``outcome`` broadcasts against ``position``.
    """
    r = np.asarray(risk, dtype=float)
    if r.ndim == 1:
        r = r[:, None]
    return -salience * np.abs(outcome - position) ** r


def effective_trust(trust: Array | float, values_legal_form: Array | float, binding: bool, legal_boost: float) -> Array:
    """Trust in compliance, raised by a legally binding form for actors who value it.

    ``tau_eff = tau + binding * legal_boost * v_legal * (1 - tau)``: a treaty makes reneging
    costlier (audience and legal costs; Fearon 1997, Simmons 2000) and so removes part of the
    remaining distrust, in proportion to how much the actor values legal form.
    """
    tau = np.asarray(trust, dtype=float)
    if not binding:
        return tau
    return tau + legal_boost * np.asarray(values_legal_form, dtype=float) * (1.0 - tau)


def discounted_gains(gains: Array, compliance: Array, trust: Array | float) -> Array:
    """Per-issue changes from the baseline, with promised gains discounted by trust.

    The commitment problem (Fearon 1995): what a counterpart promises is only worth as much as
    one's confidence that it will comply; one's own concessions are certain. A positive change on
    issue ``j`` is weighted by ``1 - kappa_j * (1 - tau)``, where ``kappa_j`` is the share of the
    issue that depends on future compliance; a loss has weight 1.
    """
    weight = np.where(gains > 0.0, 1.0 - compliance * (1.0 - np.asarray(trust, dtype=float)), 1.0)
    return weight * gains


def compromise(position: Array, capability: Array, salience: Array) -> Array:
    """Expected outcome of collective bargaining: the capability x salience weighted mean.

    ``x_j = sum_i c_i s_ij p_ij / sum_i c_i s_ij`` -- the compromise model of van den Bos (1991),
    Stokman and van Oosten (1994) and Achen (2006), which predicts negotiated EU outcomes about as
    well as far richer models (Thomson et al. 2006). Issues with no weight return NaN.
    """
    w = capability[:, None] * salience
    total = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0.0, (w * position).sum(axis=0) / total, np.nan)


def project(value: Array, low: Array, high: Array) -> Array:
    """Nearest point of the interval ``[low, high]`` (used to keep outcomes inside red lines)."""
    return np.minimum(np.maximum(value, low), high)
