#!/usr/bin/env python3
"""The Guandu innovation model (models/guandu_innovation.yaml), written by hand in numpy.

A benchmark peer for attain: the model as a competent researcher would code it without
attain, vectorised over runs (arrays of 2^18 runs), one numpy expression per node per
step. It reads a scenario file only for its lever overrides; the model itself (every
formula, distribution and the correlation groups) is written out below.

It uses numpy's own generator (np.random.default_rng), so its random stream differs from
attain's: the two agree in distribution, not run by run. bench/peers/run_guandu.sh runs
both and compares their probabilities within sampling error.

    /usr/bin/python3 bench/peers/guandu_numpy.py --runs 100000 \
        scenarios/guandu/baseline.yaml scenarios/guandu/plan.yaml

Needs numpy, scipy (Debian: apt-get install -y python3-scipy) and PyYAML.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

try:
    from scipy.special import betaincinv
    from scipy.stats import norm
except ImportError:
    sys.exit("guandu_numpy.py: error: scipy is missing; it needs scipy.special.betaincinv "
             "and scipy.stats.norm (Debian: apt-get install -y python3-scipy; "
             "elsewhere: pip install scipy)")
try:
    import yaml
except ImportError:
    sys.exit("guandu_numpy.py: error: PyYAML is missing (Debian: apt-get install -y python3-yaml)")

MODEL = "guandu_innovation"
YEARS = [2017, 2018, 2019, 2020]      # time: {start: 2017, end: 2020, step: 1}; dt = 1
BATCH = 2 ** 18                        # runs evaluated together

# --- levers: the model's defaults (the plan) ------------------------------------------------
# Each is ("value", v), ("series", {year: v}) or ("growth", initial, rate); a scenario may
# replace the rule or multiply it by `scale`.
LEVERS = {
    "fiscal_st_index": ("growth", 1.0, 0.15),
    "tech_finance": ("series", {2017: 0, 2018: 1, 2019: 2, 2020: 3}),
    "sci_pop_index": ("growth", 1.0, 0.15),
    "incubator_build": ("series", {2017: 1.0, 2018: 7.0}),
    "inst_courted": ("series", {2017: 1, 2018: 4}),
    "workstation_applications": ("series", {2017: 1, 2018: 3}),
    "district_team_quota": ("series", {2017: 5, 2018: 9}),
    "talent_attraction": ("series", {2017: 1, 2018: 1.5}),
    "broadband_rollout": ("series", {2017: 1, 2018: 1.5}),
    "hq_attraction": ("series", {2017: 1, 2018: 2}),
}

# --- parameters: every one is beta-PERT (min, mode, max), lambda = 4 -------------------------
PERT = {
    "gdp_growth_trend": (0.05, 0.085, 0.11),
    "pop_growth": (0.03, 0.06, 0.08),
    "rd_intensity_2017": (0.9, 1.5, 2.6),
    "ent_rd_share_2017": (0.30, 0.45, 0.60),
    "ent_rd_growth": (0.04, 0.14, 0.24),
    "other_rd_growth": (-0.02, 0.03, 0.08),
    "fiscal_st_2017": (0.8, 1.5, 3.0),
    "ent_rd_per_fiscal": (0.1, 0.4, 1.0),
    "other_rd_per_fiscal": (0.05, 0.2, 0.4),
    "finance_rd_additionality": (0.05, 0.2, 0.4),
    "hte_2017": (40, 65, 90),
    "cert_base_rate": (6, 12, 22),
    "fiscal_response": (0, 0.3, 0.8),
    "cert_per_incubation": (0, 0.3, 0.8),
    "cert_per_institution": (0, 0.5, 1.5),
    "recert_lapse": (0.10, 0.25, 0.45),
    "patents_per_10k_2017": (4, 8, 13),
    "patent_filings_per_rd": (6, 15, 30),
    "patent_decision_rate": (0.3, 0.4, 0.5),
    "patent_lapse_rate": (0.03, 0.06, 0.10),
    "svc_rev_2017": (28, 42, 60),
    "svc_rev_growth": (0.04, 0.13, 0.25),
    "svc_rev_per_inst": (0.2, 0.8, 2.0),
    "tech_contract_2017": (3, 6.5, 10),
    "tech_contract_growth": (-0.05, 0.14, 0.35),
    "contract_per_inst": (0.05, 0.25, 0.6),
    "incubation_area_2017": (5, 9, 14),
    "incubation_realisation": (0.5, 0.8, 1.0),
    "incubation_closure": (0, 0.04, 0.12),
    "nat_inc_hazard": (0.005, 0.025, 0.06),
    "bb_per_resident_2017": (0.15, 0.21, 0.28),
    "bb_gain": (0.005, 0.02, 0.035),
    "literacy_2017": (6.5, 9.0, 12.0),
    "literacy_trend": (0.4, 0.8, 1.3),
    "sci_pop_effect": (0, 0.2, 0.6),
    "top500_2016": (5, 12, 25),
    "hq_arrival_rate": (0.5, 1.5, 3.0),
    "hq_effort_effect": (0.1, 0.5, 1.0),
    "inst_success_p": (0.25, 0.5, 0.75),
    "ws_approval_p": (0.35, 0.6, 0.85),
    "team_candidate_rate": (5, 9, 14),
    "team_upper_rate": (0.5, 1.5, 3.0),
    "talent_elasticity": (0.2, 0.5, 0.9),
}
PERT_LAMBDA = 4.0

# Rank (Spearman) correlation groups, through a Gaussian copula.
CORRELATIONS = [
    (["gdp_growth_trend", "ent_rd_growth", "svc_rev_growth"],
     [[1.0, 0.5, 0.5], [0.5, 1.0, 0.3], [0.5, 0.3, 1.0]]),
    (["rd_intensity_2017", "hte_2017", "patents_per_10k_2017"],
     [[1.0, 0.4, 0.4], [0.4, 1.0, 0.4], [0.4, 0.4, 1.0]]),
    (["svc_rev_2017", "tech_contract_2017"],
     [[1.0, 0.3], [0.3, 1.0]]),
]

# --- targets, all in 2020 (the last step), all ">=" ------------------------------------------
TARGETS = [
    ("t01_rd_intensity", "rd_intensity", 2.5),
    ("t02_enterprise_rd_share", "ent_rd_share", 60),
    ("t03_high_tech_enterprises", "hte", 100),
    ("t04_invention_patents", "patents_per_10k", 13),
    ("t05_tech_services_revenue", "svc_revenue", 70),
    ("t06_incubation_area", "incubation_area", 20),
    ("t07_broadband_households", "broadband_households", 370000),
    ("t08_scientific_literacy", "literacy", 11.18),
    ("t09_tech_contracts", "tech_contracts", 10.5),
    ("t10_national_incubator", "nat_incubators", 1),
    ("t11_top500_doubling", "top500_ratio", 2),
    ("t12_service_institutions", "institutions_new", 5),
    ("t13_expert_workstations", "workstations_new", 5),
    ("t14_innovation_teams", "teams_new", 30),
]

# The other nodes, by kind (for --means and --verify-model).
SHOCKS = ["gdp_noise", "hte_new", "hte_lost", "patent_filings", "patent_grants",
          "patent_lapses", "nat_inc_award", "hq_arrivals", "inst_arrivals", "ws_approved",
          "team_candidates", "team_upper"]
AUXILIARIES = ["population", "fiscal_factor", "ent_rd", "rd_total", "rd_intensity",
               "ent_rd_share", "patents_per_10k", "broadband_households", "top500_ratio",
               "institutions_new", "workstations_new", "teams_new"]
STOCKS = ["gdp", "ent_rd_trend", "other_rd_base", "hte", "patent_pipeline", "patents_valid",
          "svc_revenue", "tech_contracts", "incubation_area", "nat_incubators",
          "bb_penetration", "literacy", "top500", "inst_open", "ws_open", "teams_open"]


def rnd(x):
    """round() as in the model language (and C): halves away from zero."""
    return np.trunc(x + np.copysign(0.5, x))


def step(h, t, year):
    """step(h, t): h from time t on, else 0."""
    return h if year >= t else 0.0


# --- levers and scenarios ---------------------------------------------------------------------

def lever_value(rule, year):
    kind = rule[0]
    if kind == "value":
        return float(rule[1])
    if kind == "growth":
        return rule[1] * (1 + rule[2]) ** (year - YEARS[0])
    series = sorted(rule[1].items())            # linear between given years, flat outside
    xs = [float(x) for x, _ in series]
    ys = [float(y) for _, y in series]
    return float(np.interp(year, xs, ys))


def lever_rule_from_yaml(name, spec):
    if "value" in spec:
        return ("value", float(spec["value"]))
    if "series" in spec:
        return ("series", {float(k): float(v) for k, v in spec["series"].items()})
    if "growth" in spec:
        return ("growth", float(spec["growth"]["initial"]), float(spec["growth"]["rate"]))
    sys.exit(f"guandu_numpy.py: error: lever '{name}': no value, series, growth or scale")


def load_scenario(path):
    """(name, {lever: [value per year]}) for a scenario file, following `extends`."""
    chain = []
    seen = set()
    p = os.path.abspath(path)
    while True:
        if p in seen:
            sys.exit(f"guandu_numpy.py: error: extends loop at {p}")
        seen.add(p)
        with open(p, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        if doc.get("model") != MODEL:
            sys.exit(f"guandu_numpy.py: error: {p} is a scenario of model "
                     f"'{doc.get('model')}', not {MODEL}")
        if doc.get("parameters"):
            sys.exit(f"guandu_numpy.py: error: {p} overrides parameters; this peer only "
                     "supports lever overrides")
        chain.append(doc)
        if not doc.get("extends"):
            break
        p = os.path.abspath(os.path.join(os.path.dirname(p), doc["extends"]))
    rules = {name: (rule, 1.0) for name, rule in LEVERS.items()}
    for doc in reversed(chain):                 # the base first, the given file last
        for name, spec in (doc.get("levers") or {}).items():
            if name not in rules:
                sys.exit(f"guandu_numpy.py: error: unknown lever '{name}' in {path}")
            rule, scale = rules[name]
            if set(spec) == {"scale"}:
                rules[name] = (rule, scale * float(spec["scale"]))
            else:
                rules[name] = (lever_rule_from_yaml(name, spec), 1.0)
    levers = {name: [lever_value(rule, y) * scale for y in YEARS]
              for name, (rule, scale) in rules.items()}
    return chain[0]["scenario"], levers


# --- parameters -------------------------------------------------------------------------------

def pert_shape(lo, mode, hi, lam=PERT_LAMBDA):
    width = hi - lo
    return 1 + lam * (mode - lo) / width, 1 + lam * (hi - mode) / width


def draw_parameters(rng, n):
    """One value per run of every parameter (a dict of arrays of n)."""
    q = {}
    for names, rank in CORRELATIONS:
        pearson = 2 * np.sin(np.pi * np.array(rank) / 6)   # Spearman -> Pearson for normals
        chol = np.linalg.cholesky(pearson)
        z = rng.standard_normal((n, len(names))) @ chol.T
        u = norm.cdf(z)
        for j, name in enumerate(names):
            lo, mode, hi = PERT[name]
            a, b = pert_shape(lo, mode, hi)
            q[name] = lo + (hi - lo) * betaincinv(a, b, u[:, j])
    for name, (lo, mode, hi) in PERT.items():
        if name not in q:
            a, b = pert_shape(lo, mode, hi)
            q[name] = lo + (hi - lo) * rng.beta(a, b, n)
    return q


def parameters_from_uniforms(u):
    """Every parameter's values from given uniforms (a dict of arrays of n).

    u: runs x parameters, columns in the model's (and PERT's) order. Each parameter goes
    through its inverse CDF; a correlation group's uniforms first through the Gaussian
    copula (normal quantiles times the Cholesky factor, back to uniforms), as
    draw_parameters does with fresh normals. For designs (guandu_sobol_numpy.py).
    """
    names = list(PERT)
    col = {name: j for j, name in enumerate(names)}
    u = np.asarray(u, dtype=float)
    v = u.copy()
    for group, rank in CORRELATIONS:
        pearson = 2 * np.sin(np.pi * np.array(rank) / 6)
        chol = np.linalg.cholesky(pearson)
        cols = [col[name] for name in group]
        v[:, cols] = norm.cdf(norm.ppf(u[:, cols]) @ chol.T)
    q = {}
    for name, (lo, mode, hi) in PERT.items():
        a, b = pert_shape(lo, mode, hi)
        q[name] = lo + (hi - lo) * betaincinv(a, b, v[:, col[name]])
    return q


class UniformShocks:
    """Stands in for the generator in simulate(): every shock by its inverse CDF from
    given uniforms (runs x shocks of all steps, taken column by column in the order
    simulate() draws them: 12 a step), so that two simulations given the same uniforms
    share their year-to-year randomness (common random numbers, as a design needs)."""

    def __init__(self, u):
        self.u = np.asarray(u, dtype=float)
        self.k = 0

    def _next(self):
        u = self.u[:, self.k]
        self.k += 1
        return u

    def normal(self, loc, scale, size=None):
        return loc + scale * norm.ppf(self._next())

    def random(self, size=None):
        return self._next()

    def poisson(self, lam):
        from scipy.stats import poisson
        return poisson.ppf(self._next(), lam)

    def binomial(self, n, p):
        from scipy.stats import binom
        u = self._next()
        n, p = np.broadcast_arrays(n, p)
        p = np.broadcast_to(p, u.shape)
        n = np.broadcast_to(n, u.shape)
        x = binom.ppf(u, n, np.minimum(p, 1))
        return np.where(p >= 1, n, x)        # scipy's ppf is wrong at p = 1


# --- the model --------------------------------------------------------------------------------

class Params:
    def __init__(self, d):
        self.__dict__.update(d)


def simulate(lev, q, rng, n, sums=None):
    """Run n runs over 2017-2020; return the 2020 value of every target's node.

    lev: lever values per year; q: parameter arrays; sums: if a dict, the sum and the sum of
    squares over runs of every node at every step are added to it (for comparing means and
    sds with attain's summary).
    """
    q = Params(q)
    for k, year in enumerate(YEARS):
        # levers at this step
        fiscal_st_index = lev["fiscal_st_index"][k]
        tech_finance = lev["tech_finance"][k]
        sci_pop_index = lev["sci_pop_index"][k]
        incubator_build = lev["incubator_build"][k]
        inst_courted = lev["inst_courted"][k]
        workstation_applications = lev["workstation_applications"][k]
        district_team_quota = lev["district_team_quota"][k]
        talent_attraction = lev["talent_attraction"][k]
        broadband_rollout = lev["broadband_rollout"][k]
        hq_attraction = lev["hq_attraction"][k]

        # population: prev(population) reads the history (127.72 in 2016) at the first step
        population = (127.72 if k == 0 else population) * (1 + q.pop_growth)
        fiscal_factor = fiscal_st_index if year >= 2018 else 1.0

        # stocks: the initial value at the first step, then S(t) = S(t-1) + change(t-1)
        if k == 0:
            gdp = np.full(n, 1002.16 * 1.104)
            ent_rd_trend = q.rd_intensity_2017 / 100 * q.ent_rd_share_2017 * gdp
            other_rd_base = q.rd_intensity_2017 / 100 * (1 - q.ent_rd_share_2017) * gdp
            hte = rnd(q.hte_2017)
            svc_revenue = q.svc_rev_2017
            tech_contracts = q.tech_contract_2017
            incubation_area = q.incubation_area_2017
            nat_incubators = np.zeros(n)
            bb_penetration = q.bb_per_resident_2017
            literacy = q.literacy_2017
            top500 = rnd(q.top500_2016 + q.hq_arrival_rate)
            inst_open = np.zeros(n)
            ws_open = np.zeros(n)
            teams_open = np.zeros(n)
        else:
            gdp = gdp + d_gdp
            ent_rd_trend = ent_rd_trend + d_ent_rd_trend
            other_rd_base = other_rd_base + d_other_rd_base
            hte = hte + d_hte
            patent_pipeline = patent_pipeline + d_patent_pipeline
            patents_valid = patents_valid + d_patents_valid
            svc_revenue = svc_revenue + d_svc_revenue
            tech_contracts = tech_contracts + d_tech_contracts
            incubation_area = incubation_area + d_incubation_area
            nat_incubators = nat_incubators + d_nat_incubators
            bb_penetration = bb_penetration + d_bb_penetration
            literacy = literacy + d_literacy
            top500 = top500 + d_top500
            inst_open = inst_open + d_inst_open
            ws_open = ws_open + d_ws_open
            teams_open = teams_open + d_teams_open

        # R&D
        ent_rd = (ent_rd_trend + q.ent_rd_per_fiscal * q.fiscal_st_2017 * (fiscal_factor - 1)
                  + q.finance_rd_additionality * tech_finance)
        rd_total = ent_rd + other_rd_base + q.other_rd_per_fiscal * q.fiscal_st_2017 * (fiscal_factor - 1)
        rd_intensity = 100 * rd_total / gdp
        ent_rd_share = 100 * ent_rd / rd_total

        if k == 0:   # the two patent stocks start from same-step auxiliaries
            patent_pipeline = rnd(q.patent_filings_per_rd * rd_total / q.patent_decision_rate)
            patents_valid = rnd(q.patents_per_10k_2017 * population)

        patents_per_10k = patents_valid / population
        broadband_households = rnd(bb_penetration * population * 10000)
        top500_ratio = top500 / np.maximum(1, rnd(q.top500_2016))

        # shocks, drawn anew at every step
        gdp_noise = rng.normal(0.0, 0.015, n)
        inst_arrivals = rng.binomial(
            int(rnd(inst_courted * step(1, 2018, year))),
            np.minimum(1, q.inst_success_p * fiscal_factor ** q.fiscal_response))
        institutions_new = inst_open + inst_arrivals
        hte_new = rng.poisson(
            q.cert_base_rate * fiscal_factor ** q.fiscal_response
            + q.cert_per_incubation * np.maximum(0, incubation_area - q.incubation_area_2017)
            + q.cert_per_institution * institutions_new)
        hte_lost = rng.binomial(rnd(hte / 3).astype(np.int64), q.recert_lapse)
        patent_filings = rng.poisson(q.patent_filings_per_rd * rd_total)
        patent_grants = rng.binomial(patent_pipeline.astype(np.int64), q.patent_decision_rate)
        patent_lapses = rng.binomial(patents_valid.astype(np.int64), q.patent_lapse_rate)
        nat_inc_award = (rng.random(n) < 1 - np.exp(-q.nat_inc_hazard * incubation_area)).astype(float)
        hq_arrivals = rng.poisson(q.hq_arrival_rate * (1 + q.hq_effort_effect * (hq_attraction - 1)))
        ws_approved = rng.binomial(int(rnd(workstation_applications * step(1, 2018, year))),
                                   q.ws_approval_p)
        talent = talent_attraction ** q.talent_elasticity
        team_candidates = rng.poisson(q.team_candidate_rate * talent)
        team_upper = rng.poisson(q.team_upper_rate * talent)

        workstations_new = ws_open + ws_approved
        teams_new = teams_open + step(1, 2018, year) * (
            np.minimum(rnd(district_team_quota), team_candidates) + team_upper)

        # the stocks' changes during the next year, from this year's values (Euler, dt = 1)
        d_gdp = gdp * (q.gdp_growth_trend + gdp_noise)
        d_ent_rd_trend = ent_rd_trend * q.ent_rd_growth
        d_other_rd_base = other_rd_base * q.other_rd_growth
        d_hte = hte_new - hte_lost
        d_patent_pipeline = patent_filings - patent_grants
        d_patents_valid = patent_grants - patent_lapses
        d_svc_revenue = svc_revenue * q.svc_rev_growth + q.svc_rev_per_inst * inst_arrivals
        d_tech_contracts = tech_contracts * q.tech_contract_growth + q.contract_per_inst * inst_arrivals
        d_incubation_area = (incubator_build * q.incubation_realisation
                             - q.incubation_closure * incubation_area)
        d_nat_incubators = nat_inc_award
        d_bb_penetration = q.bb_gain * broadband_rollout
        d_literacy = q.literacy_trend + q.sci_pop_effect * ((sci_pop_index if year >= 2018 else 1) - 1)
        d_top500 = hq_arrivals
        d_inst_open = inst_arrivals
        d_ws_open = ws_approved
        d_teams_open = teams_new - teams_open

        if sums is not None:   # sum and sum of squares of every node at this step
            here = locals()
            for name in list(LEVERS) + list(PERT) + SHOCKS + AUXILIARIES + STOCKS:
                x = np.broadcast_to(getattr(q, name) if name in PERT else here[name], (n,))
                acc = sums.setdefault(name, np.zeros((2, len(YEARS))))
                acc[0, k] += np.sum(x)
                acc[1, k] += np.sum(np.square(x))

    final = locals()
    return {node: final[node] for _, node, _ in TARGETS}


def run_scenario(levers, runs, seed, sums=None):
    """Hits per target and joint over `runs` runs, in batches of BATCH."""
    rng = np.random.default_rng(seed)
    hits = np.zeros(len(TARGETS), dtype=np.int64)
    joint = 0
    done = 0
    while done < runs:
        n = min(BATCH, runs - done)
        q = draw_parameters(rng, n)
        final = simulate(levers, q, rng, n, sums)
        met_all = np.ones(n, dtype=bool)
        for i, (_, node, threshold) in enumerate(TARGETS):
            met = final[node] >= threshold
            hits[i] += np.count_nonzero(met)
            met_all &= met
        joint += np.count_nonzero(met_all)
        done += n
    return hits, joint


# --- checking the hand-written tables against the model file ----------------------------------

def verify_model(path):
    """Errors where the tables above differ from the model file (after someone edits it)."""
    with open(path, encoding="utf-8") as f:
        m = yaml.safe_load(f)
    errors = []
    if m.get("model") != MODEL:
        errors.append(f"model name {m.get('model')!r}")
    if m["time"] != {"start": YEARS[0], "end": YEARS[-1], "step": 1}:
        errors.append(f"time {m['time']}")
    params = m.get("parameters", {})
    if set(params) != set(PERT):
        errors.append(f"parameters differ: {sorted(set(params) ^ set(PERT))}")
    for name, spec in params.items():
        if name in PERT and (spec.get("dist") != "pert" or spec.get("lambda", 4) != PERT_LAMBDA
                             or (spec["min"], spec["mode"], spec["max"]) != PERT[name]):
            errors.append(f"parameter {name}: {spec.get('dist')} {spec.get('min')} "
                          f"{spec.get('mode')} {spec.get('max')} vs {PERT[name]}")
    levers = m.get("levers", {})
    if set(levers) != set(LEVERS):
        errors.append(f"levers differ: {sorted(set(levers) ^ set(LEVERS))}")
    for name, spec in levers.items():
        if name in LEVERS:
            mine = [lever_value(LEVERS[name], y) for y in YEARS]
            theirs = [lever_value(lever_rule_from_yaml(name, spec), y) for y in YEARS]
            if not np.allclose(mine, theirs, rtol=0, atol=1e-12):
                errors.append(f"lever {name}: {theirs} vs {mine}")
    corr = [(g["parameters"], g["matrix"]) for g in m.get("correlations", [])]
    if corr != CORRELATIONS:
        errors.append("correlation groups differ")
    targets = [(t["name"], t["node"], t["threshold"]) for t in m.get("targets", [])]
    if targets != TARGETS or any(t["op"] != ">=" or t.get("year", YEARS[-1]) != YEARS[-1]
                                 for t in m["targets"]):
        errors.append("targets differ")
    if set(m.get("shocks", {})) != set(SHOCKS):
        errors.append("shocks differ")
    if set(m.get("auxiliaries", {})) != set(AUXILIARIES):
        errors.append("auxiliaries differ")
    if set(m.get("stocks", {})) != set(STOCKS):
        errors.append("stocks differ")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenarios", nargs="+", help="scenario files (YAML)")
    ap.add_argument("--runs", type=int, default=100000, help="runs per scenario (default 100000)")
    ap.add_argument("--seed", type=int, default=1, help="seed of numpy's generator (default 1)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--means", action="store_true",
                    help="also give every node's mean and sd at every step in --json (slower; for "
                         "debugging with bench/peers/compare_means.py)")
    ap.add_argument("--verify-model", metavar="MODEL_YAML",
                    help="check the hand-written tables against this model file first")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    if args.verify_model:
        errors = verify_model(args.verify_model)
        if errors:
            sys.exit("guandu_numpy.py: error: the model file differs from this peer: "
                     + "; ".join(errors))
    scenarios = [load_scenario(p) for p in args.scenarios]

    results = []
    start_all = time.perf_counter()
    for name, levers in scenarios:
        sums = {} if args.means else None
        start = time.perf_counter()
        hits, joint = run_scenario(levers, args.runs, args.seed, sums)
        seconds = time.perf_counter() - start
        r = {
            "name": name,
            "runs": args.runs,
            "seconds": seconds,
            "targets": [{"name": t, "hits": int(h), "probability": h / args.runs}
                        for (t, _, _), h in zip(TARGETS, hits)],
            "joint": {"hits": int(joint), "probability": joint / args.runs},
        }
        if sums is not None:
            n = args.runs
            r["means"] = {node: list(s[0] / n) for node, s in sums.items()}
            r["sds"] = {node: list(np.sqrt(np.maximum(0, s[1] - s[0] ** 2 / n) / max(1, n - 1)))
                        for node, s in sums.items()}
        results.append(r)
    total = time.perf_counter() - start_all

    if args.json:
        json.dump({"peer": "guandu_numpy", "model": MODEL, "runs": args.runs, "seed": args.seed,
                   "batch": BATCH, "numpy": np.__version__, "seconds": total,
                   "scenarios": results}, sys.stdout, indent=1)
        print()
        return
    names = [r["name"] for r in results]
    print(f"{MODEL}: {args.runs} runs per scenario, seed {args.seed} (numpy peer)")
    print(f"{'target':28s}" + "".join(f"{n:>14s}" for n in names))
    for i, (t, _, _) in enumerate(TARGETS):
        print(f"{t:28s}" + "".join(f"{r['targets'][i]['probability']:14.4f}" for r in results))
    print(f"{'joint':28s}" + "".join(f"{r['joint']['probability']:14.4f}" for r in results))
    print(f"{'seconds':28s}" + "".join(f"{r['seconds']:14.2f}" for r in results))
    print(f"total {total:.2f} s (excluding import and setup)")


if __name__ == "__main__":
    main()
