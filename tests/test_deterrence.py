"""Extended deterrence with an ally's commitment, through the general rules (docs/design/bargaining.md §4d).

A (capability 0.5, cost c_A ~ U[0, 1]) challenges B (0.25) over an issue only B decides; D (0.25), with no
right on it, has a public deterrence threat protecting B, so D joins a war on B with probability r (ODD 7.4).
A defeating B takes B's consent and no other holder remains, so G_AB = 1 and L_AB = 0 (ODD 7.5); B and D
have nothing to gain by attacking anyone. With no venue ahead, A's alternative to war is the status quo
(ODD 7.14: pi = 0 because B cannot gain by attacking), so A attacks on its one day iff

    W_AB - c_A > U_A(b)  <=>  c_A < p_bar = r M_A / (M_A + M_B + M_D) + (1 - r) M_A / (M_A + M_B) = 2/3 - r/6,

and P(attack) = p_bar (Huth 1988; Leeds 2003: a defensive commitment to the target deters initiation).
Checked over 2,000 seeds per config: seed by seed, the attack happens exactly when c_A < p_bar (draws within
1e-9 of it skipped); the share is within 4 sigma = 4 sqrt(P(1 - P) / 2000) of P (a correct model fails one of
the three with probability about 2e-4); and on the same seeds the attacking sets are nested in r.
The configs are configs/validation/deterrence_r*.yaml.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.loading import load_scenario
from sim.model import DiplomacyModel

VALIDATION = Path(__file__).resolve().parent.parent / "configs" / "validation"
N_SEEDS = 2_000
CASES = [("deterrence_r000", 0.0), ("deterrence_r050", 0.5), ("deterrence_r100", 1.0)]
TIE = 1e-9


def p_bar(r: float) -> float:
    m_a, m_b, m_d = 0.5, 0.25, 0.25
    return r * m_a / (m_a + m_b + m_d) + (1 - r) * m_a / (m_a + m_b)


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[np.ndarray, list]]:
    """Per config: A's cost draw and the escalation record of every seed."""
    out = {}
    for name, _ in CASES:
        sc = load_scenario(VALIDATION / f"{name}.yaml")
        costs, wars = [], []
        for seed in range(N_SEEDS):
            model = DiplomacyModel(sc, rng=seed)
            costs.append(model.private_cost[0])
            wars.append(model.run().escalation)
        out[name] = (np.array(costs), wars)
    return out


@pytest.mark.parametrize(("name", "r"), CASES)
def test_the_challenger_attacks_exactly_when_its_cost_is_below_p_bar(runs, name: str, r: float) -> None:
    costs, wars = runs[name]
    p = p_bar(r)
    clear = np.abs(costs - p) > TIE
    assert (~clear).sum() <= 2
    attacked = np.array([w is not None for w in wars])
    np.testing.assert_array_equal(attacked[clear], costs[clear] < p)
    assert all((w["actor"], w["target"]) == ("A", "B") for w in wars if w is not None)


@pytest.mark.parametrize(("name", "r"), CASES)
def test_the_attack_share_is_p_bar(runs, name: str, r: float) -> None:
    _, wars = runs[name]
    p = p_bar(r)
    share = np.mean([w is not None for w in wars])
    assert abs(share - p) <= 4 * np.sqrt(p * (1 - p) / N_SEEDS), (share, p)


def test_a_more_reliable_commitment_deters_the_same_seeds_or_more(runs) -> None:
    attacked = [np.array([w is not None for w in runs[name][1]]) for name, _ in CASES]
    for weaker, stronger in zip(attacked, attacked[1:], strict=False):
        assert not (stronger & ~weaker).any()  # every seed that attacks at the higher r attacks at the lower
    assert attacked[0].sum() > attacked[-1].sum()


def test_the_escalation_record_names_the_committed_defender(runs) -> None:
    wars = runs["deterrence_r050"][1]
    assert all(w["defenders"] == {"D": 0.5} and w["spoils"] == 1.0 for w in wars if w is not None)
