"""Conclusions printed in the notebooks' prose must match the numbers the notebooks compute.

Each test reads a source notebook's stored outputs (nbval checks that they are what the code
computes) and fails if the text quoting them no longer agrees.
"""

from __future__ import annotations

import numpy as np
import pytest


def _cells(notebook: str) -> dict:
    """grade_id -> cell of a source notebook; markdown with line breaks collapsed and the typographic minus as '-'."""
    import nbformat

    from gmm_course.paths import SOURCE_NOTEBOOKS_DIR

    nb = nbformat.read(SOURCE_NOTEBOOKS_DIR / notebook, as_version=4)
    cells = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in nb.cells}
    for cell in cells.values():
        if cell.cell_type == "markdown":
            cell.source = " ".join(cell.source.replace("\u2212", "-").split())
    return cells


def _output(cells: dict, grade_id: str) -> str:
    """The stored stream output of a cell, progress-bar lines (carriage returns) reduced to their last state."""
    from gmm_course.normalise import settle_carriage_returns

    text = "".join(o.get("text", "") for o in cells[grade_id].get("outputs", []) if o.get("output_type") == "stream")
    return settle_carriage_returns(text)


def _runs_with_full_marks_while_blank(tmp_path, name: str, blanks: dict[str, str | None]) -> None:
    """Notebook ``name`` on the reference with the solutions of ``blanks`` ({module: function or None for the
    whole module}) put back to raise NotImplementedError: it must run without errors and with full marks."""
    import re

    from gmm_course.mutants import prepare_submission
    from gmm_course.notebooks import autograded_results, execute_notebook
    from gmm_course.paths import REFERENCE_PACKAGE_DIR, SOURCE_NOTEBOOKS_DIR

    folder = prepare_submission(tmp_path / "submission", SOURCE_NOTEBOOKS_DIR, REFERENCE_PACKAGE_DIR, [name])
    for module, function in blanks.items():
        path = folder / "gmm_student" / module
        text = path.read_text()
        if function is None:
            text = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "raise NotImplementedError", text, flags=re.S)
        else:
            start = text.index("### BEGIN SOLUTION", text.index(f"def {function}"))
            end = text.index("### END SOLUTION", start) + len("### END SOLUTION")
            text = text[:start] + "raise NotImplementedError" + text[end:]
        path.write_text(text)
    nb = execute_notebook(folder / name, cwd=folder, timeout=60)
    errors = [
        (cell.metadata["nbgrader"]["grade_id"], output.get("ename"))
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{name} needs code of a later notebook: {errors}"
    assert not [r.grade_id for r in autograded_results(nb) if not r.passed]


# --- notebook 5 (k-means versus random initialisation): its prose quotes these computed numbers --------------------


def _nb05_reach(table):
    """{(case, method): (reached, runs, best)} from the stored experiment table."""
    import re

    rows = re.findall(
        r"^(synthetic, K=5|Old Faithful, K=\d)\s+(kmeans|random)\s+(-?\d+\.\d+)\s+\S+\s+\S+\s+(\d+)/(\d+)",
        table,
        flags=re.M,
    )
    return {(case, m): (int(k), int(n), float(best)) for case, m, best, k, n in rows}


def test_nb05_restart_counts_in_the_text_match_the_computed_table():
    import re

    cells = _cells("05_kmeans_vs_random_init.ipynb")
    reach = _nb05_reach(_output(cells, "nb05_experiment_table"))
    assert len(reach) == 6, f"the experiment table has changed form: {sorted(reach)}"
    text = cells["nb05_experiment_discussion"].source
    summary = cells["nb05_summary"].source
    answer = cells["nb05_q_fixed_point"].source
    k, n, _ = reach[("synthetic, K=5", "kmeans")]
    r, m, _ = reach[("synthetic, K=5", "random")]
    assert f"{k} of {n} seeds" in text and f"{r} of {m}" in text, ("synthetic", k, n, r, m)
    assert f"{k} against {r} of {n}" in summary and f"{k} vs {r} of {n}" in answer, ("synthetic", k, r)
    k, n, _ = reach[("Old Faithful, K=2", "kmeans")]
    r, m, _ = reach[("Old Faithful, K=2", "random")]
    assert f"{k} of {n} runs, random in {r} of {m}" in text, ("Old Faithful K=2", k, n, r, m)
    k, n, best_k = reach[("Old Faithful, K=3", "kmeans")]
    r, m, best_r = reach[("Old Faithful, K=3", "random")]
    best = max(best_k, best_r)
    claim = f"reached by {r} of {m} random starts and by {k} of {n} k-means starts"
    assert claim in text, f"the text should say: {claim}"
    assert f"at {best:.2f}" in text, f"the best K=3 optimum is {best:.2f}"
    for where in (summary, answer):
        assert re.search(rf"{r} of {m}\s+random starts\W+(and )?{k} of\s+{n} k-means starts", where), (r, m, k, n)
    # "never finds the best" and "neither start is reliable" follow from these counts only:
    assert k == 0 and 0 < r < m / 4, "the K=3 conclusions (k-means never, random rarely) no longer hold"


def test_nb05_old_faithful_k3_optima_in_the_text_match_the_computation():
    import re

    cells = _cells("05_kmeans_vs_random_init.ipynb")
    table = _output(cells, "nb05_experiment_table")
    levels = re.findall(r"^\s*(-\d+\.\d+)\s+(\d+\.\d+)\s+(\d+)\s+(\d+)$", table, flags=re.M)
    assert len(levels) >= 2, "the table of optima has changed form"
    (second, gap, k2, r2) = levels[1]
    text = cells["nb05_experiment_discussion"].source
    assert f"{float(gap):.2f} nats lower, at {float(second):.2f} ({int(k2)} k-means and {int(r2)} random runs)" in text
    third = re.search(
        r"^\s+third -> (\d\.\d+); (\d\.\d+) min, (\d+\.\d) min; (\d\.\d+) min, (\d+\.\d+) min",
        _output(cells, "nb05_diagnostics"),
        flags=re.M,
    )
    owned = re.search(r"most responsible one for (\d+) eruptions", _output(cells, "nb05_diagnostics"))
    assert third and owned, "the diagnostics output has changed form"
    assert f"centred at {float(third[2]):.2f} min" in text and f"only {third[4]} min" in text, third.groups()
    assert f"waiting-time spread of {third[5]} min" in text and f"for {owned[1]} eruptions" in text
    seconds = float(third[4]) * 60
    assert "about 4 seconds" in text and 3.5 <= seconds < 4.5, seconds
    cuts = re.findall(
        r"the (long|short) group cut: (\d+) of 100; EM ends at (-\d+\.\d+) \((\d+) runs\)",
        _output(cells, "nb05_diagnostics"),
    )
    assert len(cuts) == 2, "the diagnostics of the k-means cuts have changed form"
    for group, seeds, end, runs in cuts:
        # the long-group cut ends at the common optimum, quoted at the value of the table above
        value = float(second) if abs(float(end) - float(second)) < 0.1 else float(end)
        claim = f"cutting the {group} group ({seeds} seeds) leads EM to {value:.2f} in {runs} runs"
        claim_short = f"cutting the {group} group ({seeds} seeds) to {value:.2f} in {runs} runs"
        assert claim in text or claim_short in text, f"the text should say: {claim}"
    assert f"likelihood ratio of about {round(np.exp(float(gap)), -1):.0f}" in text, np.exp(float(gap))
    winners = re.search(
        r"random starts that reach the best: seeds \[([\d, ]*)\]; .* \((\d+) start with all three there\)",
        _output(cells, "nb05_diagnostics"),
    )
    assert winners, "the diagnostics of the random starts that reach the best have changed form"
    count = len(winners[1].split(","))
    words = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    claim = f"(of the {words[count]}, {winners[2]} start with all three means among the long eruptions)"
    assert claim in text, f"the text should say: {claim}"
    first = min(int(seed) for seed in winners[1].split(","))
    assert first >= 20 and "no run from seeds 0 to 19, of either kind, reaches the best" in text, first


def test_nb05_bic_and_soft_assignment_claims_match_the_computation():
    import re

    cells = _cells("05_kmeans_vs_random_init.ipynb")
    gap = float(re.search(r"BIC\(K=3\) - BIC\(K=2\) = (-?\d+\.\d+)", _output(cells, "nb05_estimator"))[1])
    text = cells["nb05_experiment_discussion"].source
    assert gap > 0 and f"prefers $K = 2$, but only by {gap:.2f}" in text, gap
    split = re.search(r"the best K=3 fit has (\d+) points with largest r below 0.9", _output(cells, "nb05_soft"))
    assert split and f"({split[1]} points below 0.9)" in cells["nb05_soft_discussion"].source
    # "recorded to the second, with up to 8 eruptions sharing a value near 1.8 min"
    from gmm_course.paths import SOURCE_NOTEBOOKS_DIR

    durations = np.loadtxt(SOURCE_NOTEBOOKS_DIR / "data" / "old_faithful.csv", delimiter=",", skiprows=1)[:, 0]
    assert np.all(np.abs(durations * 60 - np.round(durations * 60)) < 0.05), "durations are not whole seconds"
    near = durations[(durations >= 1.7) & (durations <= 2.0)]
    most = int(np.unique(near, return_counts=True)[1].max())
    assert f"recorded to the second, with up to {most} eruptions sharing a value near 1.8 min" in text, most


# --- notebooks 2 and 3 (helper nb23) ------------------------------------------------------------


def test_nb02_claim_regulariser_lets_2d_em_fall_once_a_component_collapses(faithful):
    """Notebook 2, section 8: on the first 30 eruptions (K=3, random_init seed 25) EM with
    reg_covar=1e-6 lowers the log-likelihood, by a tiny relative amount, at an iteration where a
    covariance eigenvalue sits near the floor; on the synthetic data it climbs monotonically."""
    import gmm_reference as ref

    X = faithful[:30]
    fit = ref.run_em(X, ref.random_init(X, 3, np.random.default_rng(25)), tol=1e-10, max_iter=300, snapshot_every=1)
    steps = np.diff(fit.log_likelihood_history)
    fall_at = int(np.argmin(steps)) + 1
    assert steps.min() < 0, "the notebook says this run lowers the log-likelihood"
    assert -steps.min() / abs(fit.log_likelihood_history[fall_at]) < 1e-3, "the notebook calls the fall tiny"
    smallest = np.linalg.eigvalsh(dict(fit.snapshots)[fall_at].covariances).min()
    assert smallest < 1e-5, f"the notebook says a component collapsed onto the floor; smallest eigenvalue {smallest}"


def test_nb03_claim_logsumexp_has_the_shape_of_np_sum():
    """Contract 1 on the reference: exactly np.sum's shape, kept length-1 axes included."""
    import gmm_reference as ref

    for shape in [(1, 3), (3, 1), (2, 1, 3), (1,), (4,), (1, 1)]:
        a = np.linspace(-2.0, 2.0, int(np.prod(shape))).reshape(shape)
        axes = [None, *range(len(shape)), *range(-len(shape), 0)] + ([(0, len(shape) - 1)] if len(shape) > 1 else [])
        for axis in axes:
            for keepdims in (False, True):
                got = ref.logsumexp(a, axis=axis, keepdims=keepdims)
                assert np.shape(got) == np.sum(a, axis=axis, keepdims=keepdims).shape, (shape, axis, keepdims)
                assert np.asarray(got).dtype == np.float64


@pytest.mark.slow
def test_nb02_claim_notebook_2_runs_without_notebook_3(tmp_path):
    """Issue 14 item 2: with logsumexp and log_e_step still blank, notebook 2 runs end to end with full marks."""
    _runs_with_full_marks_while_blank(
        tmp_path, "02_em_2d_full_covariance.ipynb", {"logsumexp.py": None, "em.py": "log_e_step"}
    )


# --- notebook 1 (helper nb01): the 1-D EM notebook's corrected claims -------------------------------------------


def test_nb01_k3_optima_and_spike_values_in_the_text_match_the_stored_outputs():
    """Issue 14 item 8: the best K=3 fit comes from many restarts; the prose quotes the computed values."""
    import re

    cells = _cells("01_em_1d_old_faithful.ipynb")
    restarts = _output(cells, "nb01_restarts")
    best = re.search(r"best K=3 fit: log-likelihood (-\d+\.\d\d), reached by (\d+) of (\d+) starts", restarts)
    local = re.search(r"most starts end at (-\d+\.\d\d)", restarts)
    assert best and local, "the output of nb01_restarts has changed form"
    reached, runs = int(best[2]), int(best[3])
    assert 0 < reached <= runs / 6, "the text says only a few of the starts reach the best K=3 fit"
    for grade_id in ("nb01_floor_notes", "nb01_a2"):
        assert best[1] in cells[grade_id].source and local[1] in cells[grade_id].source, grade_id
    assert f"{runs} random starts" in cells["nb01_a2"].source, runs
    assert f"the {runs} starts" in cells["nb01_restarts_notes"].source, runs
    table = _output(cells, "nb01_floor_experiment")
    found = re.findall(r"^\s+(\de-\d\d)\s+\S+\s+\S+\s+\S+\s+(-\d+\.\d+)\s+\d+$", table, flags=re.M)
    rows = {floor: float(value) for floor, value in found}
    two = re.search(r"two-component fit of section 8: log-likelihood (-\d+\.\d+)", table)
    assert len(rows) == 7 and two, "the output of nb01_floor_experiment has changed form"
    text = cells["nb01_floor_notes"].source
    for value in (rows["1e-06"], rows["3e-04"], float(two[1])):
        assert f"{value:.2f}" in text, f"the floor discussion should quote {value:.2f}"
    # the conclusions drawn from those numbers
    assert rows["1e-06"] > float(best[1]) > rows["3e-04"] > float(two[1])
    assert abs(rows["1e-03"] - float(local[1])) < 0.05, "floor 1e-3: the spike start ends at the local optimum"


def test_nb01_claim_clip_keeps_1d_em_monotone_unless_the_start_is_below_the_floor(faithful):
    """Notebook 1, section 13: clipping is the exact constrained M-step, so EM from a start that respects the
    floor never falls (beyond rounding); a start below the floor can fall at iteration 1 only."""
    import gmm_reference as ref

    x = faithful[:, 0]
    for seed in range(5):
        history = ref.fit_gmm_1d(x, 3, rng=seed, var_floor=1e-2, tol=1e-10, max_iter=300).log_likelihoods
        assert np.diff(history).min() > -1e-9 * np.abs(history).max(), seed
    bad = (np.array([0.35, 0.62, 0.03]), np.array([2.02, 4.27, 4.5]), np.array([0.056, 0.19, 1e-6]))
    steps = np.diff(ref.fit_gmm_1d(x, 3, init=bad, var_floor=1e-2, max_iter=50).log_likelihoods)
    assert steps[0] < -1.0 and steps[1:].min() > 0.0


@pytest.mark.slow
def test_nb01_claim_notebook_1_runs_without_notebook_3(tmp_path):
    """Issue 14 item 2: with logsumexp blank, notebook 1 runs end to end with full marks."""
    _runs_with_full_marks_while_blank(tmp_path, "01_em_1d_old_faithful.ipynb", {"logsumexp.py": None})


# --- notebook 6 (the project report): its prose and model answers quote these computed numbers ------------------


def test_nb06_standardising_claims_match_the_computation():
    import re

    cells = _cells("06_project_report.ipynb")
    ratio = float(re.search(r"sd of the waiting time / sd of the duration: (\d+\.\d+)", _output(cells, "nb06_data"))[1])
    units = _output(cells, "nb06_units")
    assert "histories agree within 1e-6: yes" in units, "the same start no longer climbs the same way in both units"
    rows = dict(re.findall(r"^\s+(in minutes|standardised)\s+(-\d+\.\d+\s+\d+) of 20", units, flags=re.M))
    best_minutes, reached_minutes = rows["in minutes"].split()
    best_standard, reached_standard = rows["standardised"].split()
    comment, answer = cells["nb06_units_comment"].source, cells["nb06_convergence"].source
    assert f"{round(ratio)} times larger" in comment and f"by a factor of {round(ratio)}" in answer, ratio
    # "none of the 20 (in minutes) reaches the best optimum; some standardised starts do": the decision rests on it.
    assert int(reached_minutes) == 0 and int(reached_standard) > 0, (reached_minutes, reached_standard)
    assert f"optimum, {float(best_standard):.2f}; they stop at {float(best_minutes):.2f} or below" in comment
    assert f"In standardised units {reached_standard} of the 20 reach it" in comment
    assert "for k-means in minutes: 0 of 20" in answer and f"({reached_standard} of 20)" in answer


def test_nb06_restart_and_monotonicity_claims_match_the_computation():
    import re

    cells = _cells("06_project_report.ipynb")
    fits = _output(cells, "nb06_fits")
    answer = cells["nb06_convergence"].source
    ends = {}
    for k, seed, n_iter, points in re.findall(r"^([345])\s+(\d+)\s+(\d+)\s+True\s+\S+\s+(.*)$", fits, flags=re.M):
        groups = re.findall(r"(-\d+\.\d+) x(\d+)", points)
        ends[int(k)] = (int(seed), int(n_iter), groups)
        best, count = groups[0]
        claim = rf"\$K\$ = {k}: {len(groups)} end points, the best \({best}\) reached by (only )?{count} of 20"
        assert re.search(claim, answer), (
            f"the model answer of question 3 should say: K = {k}: {len(groups)} end points, best {best} x{count}"
        )
    assert sorted(ends) == [3, 4, 5], "the table of fits has changed form (or a best fit did not converge)"
    second, count = ends[3][2][1]
    assert f"most starts ({count}) end at {second}" in answer
    seed, n_iter, _ = ends[3]
    assert f"$K$ = 3, start {seed}, {n_iter} iterations" in cells["nb06_ellipses"].source
    panels = dict(re.findall(r"(\d+): (-\d+\.\d+)", _output(cells, "nb06_figure_1")))
    assert f"(from {panels['0']} to {panels['15']})" in cells["nb06_ellipses"].source, panels
    checks = _output(cells, "nb06_figure_checks")
    assert checks.count("largest fall of the log-likelihood: none") == 3, "question 3(a) says EM never fell here"
    assert "no fall at any iteration" in answer


def test_nb06_component_and_model_choice_claims_match_the_computation():
    import re

    cells = _cells("06_project_report.ipynb")
    fits = _output(cells, "nb06_fits")
    rows = re.findall(r"^3  (\d\.\d+)\s+(\d\.\d+)\s+\S+\s+(\d\.\d+)\s+", fits, flags=re.M)
    weight, duration, sd = (float(v) for v in rows[0])  # K = 3, the component with the shortest eruptions
    choose, ellipses = cells["nb06_choose_k"].source, cells["nb06_ellipses"].source
    assert f"weight {weight:.2f} and mean duration {duration:.2f} min with an sd of only {sd:.2f} min" in choose
    assert f"about {round(sd * 60)} seconds" in choose
    assert f"near {duration:.2f} min, its duration sd shrinking to {sd:.2f} min" in ellipses
    table = _output(cells, "nb06_criteria")
    scores = {
        int(k): (float(ll), float(b), float(a))
        for k, ll, b, a in re.findall(r"^(\d)\s+\d+\s+(-\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)", table, flags=re.M)
    }
    assert sorted(scores) == [1, 2, 3, 4, 5, 6], "the criterion table has changed form"
    bic = {k: v[1] for k, v in scores.items()}
    aic = {k: v[2] for k, v in scores.items()}
    assert min(bic, key=bic.get) == 2 and 0 < bic[3] - bic[2] < 2, (
        "the text says: BIC prefers 2, K = 3 less than 2 higher"
    )
    assert min(aic, key=aic.get) == 5 and aic[4] - aic[5] < 1, "the text says: AIC chooses 5, with 4 practically tied"
    assert f"BIC chooses $K = 2$ ({bic[2]:.2f}), and $K = 3$ is only {bic[3] - bic[2]:.2f} higher" in choose
    assert f"({aic[4] - aic[5]:.2f} apart)" in choose
    assert f"more than {int(bic[4] - bic[2])} higher" in choose and min(bic[k] for k in (4, 5, 6)) == bic[4]
    assert f"gain of {scores[3][0] - scores[2][0]:.1f} in log-likelihood" in choose


def test_nb06_bayesian_claims_match_the_computation():
    import re

    cells = _cells("06_project_report.ipynb")
    fit = _output(cells, "nb06_bayes_fit")
    used, used_ml = (int(v) for v in re.search(r"above 1%: Bayesian (\d+), maximum likelihood (\d+)", fit).groups())
    sweep = {
        (prior, float(c)): int(n)
        for prior, c, n in re.findall(
            r"^(dirichlet_\w+)\s+(\S+)\s+(\d+)\s", _output(cells, "nb06_bayes_sweep"), flags=re.M
        )
    }
    comment, answer = cells["nb06_bayes_comment"].source, cells["nb06_bayes"].source
    bic_choice = int(re.search(r"BIC chooses K = (\d)", _output(cells, "nb06_criteria"))[1])
    assert used == bic_choice == 2 and f"keeps exactly {used}, the same number BIC chose" in comment
    assert used_ml == 10 and "uses all 10" in comment
    assert {n for (prior, _), n in sweep.items() if prior == "dirichlet_process"} == {2}, sweep
    assert sweep[("dirichlet_distribution", 10.0)] == 10 and "concentration 10" in comment, sweep
    assert sorted(c for p, c in sweep if p == "dirichlet_process") == [0.01, 1.0, 10.0]
    covariance = _output(cells, "nb06_bayes_covariance")
    assert "covariance equal to Psi_0 / nu_0: yes" in covariance, "an unused component no longer returns to the prior"
    rows = re.findall(r"mean duration (\d\.\d+) min\s+(\d+\.\d+)\s+\S+\s+(\d\.\d+)", covariance)
    (long_nk, long_diff), (short_nk, short_diff) = sorted(((float(n), float(d)) for _, n, d in rows), reverse=True)
    for nk, diff in ((long_nk, long_diff), (short_nk, short_diff)):
        assert f"about {round(nk)}" in comment and f"about {round(100 * diff)}%" in comment, (nk, diff)
        assert f"N_k \\approx {round(nk)}" in answer, nk


# --- notebook 4 (helper nb04): choosing K; the prose quotes numbers from properly optimised fits ------------------


def _nb04_scores(table):
    """{(type, K): (log L, BIC, AIC, reached, restarts)} from a print_scores table."""
    import re

    rows = re.findall(
        r"^\s*(\d)\s+(\w+)\s+(-\d+\.\d+)\s+\d+\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+) of (\d+)$", table, flags=re.M
    )
    return {(t, int(k)): (float(ll), float(b), float(a), int(r), int(n)) for k, t, ll, b, a, r, n in rows}


def test_nb04_synthetic_and_1d_claims_match_the_computation():
    cells = _cells("04_choosing_k_bic_aic.ipynb")
    syn = _nb04_scores(_output(cells, "nb04_synthetic"))
    assert len(syn) == 6, "the synthetic table has changed form"
    bic = {k: v[1] for (_, k), v in syn.items()}
    aic = {k: v[2] for (_, k), v in syn.items()}
    text = cells["nb04_synthetic_notes"].source
    assert min(bic, key=bic.get) == 3 and f"K = 4, is {bic[4] - bic[3]:.4f} higher" in text
    assert min(aic, key=aic.get) == 6 and aic[4] < aic[3] and f"minimum at K = 6 ({aic[6]:.4f})" in text
    assert f"only {syn['full', 5][3]} restart in {syn['full', 5][4]}" in text or syn["full", 5][3] != 1
    one = _nb04_scores(_output(cells, "nb04_1d_scores"))
    bic = {k: v[1] for (_, k), v in one.items()}
    aic = {k: v[2] for (_, k), v in one.items()}
    ll = {k: v[0] for (_, k), v in one.items()}
    notes, answer = cells["nb04_1d_notes"].source, cells["nb04_a1"].source
    assert min(bic, key=bic.get) == 3 and f"BIC chooses **K = 3** ({bic[3]:.4f})" in notes
    assert f"K = 2 is {bic[2] - bic[3]:.4f} higher" in notes
    # AIC: K = 4 and K = 5 tie; the model answer of question 1(b) explains exactly these numbers.
    assert sorted(aic, key=aic.get)[:2] in ([4, 5], [5, 4]) and abs(aic[4] - aic[5]) < 1
    assert f"differ by {abs(aic[4] - aic[5]):.4f}" in notes
    assert f"rises by {ll[4] - ll[3]:.4f} (from {ll[3]:.4f} to {ll[4]:.4f})" in answer
    assert f"AIC falls by {aic[3] - aic[4]:.4f} ({aic[3]:.4f} → {aic[4]:.4f})" in answer
    assert f"BIC rises by {bic[4] - bic[3]:.4f} ({bic[3]:.4f} → {bic[4]:.4f})" in answer
    assert f"The fifth component adds {ll[5] - ll[4]:.4f}" in answer
    assert f"only {one['full', 5][3]} of {one['full', 5][4]} restarts reached" in answer


def test_nb04_restart_2d_and_cross_validation_claims_match_the_computation():
    import re

    cells = _cells("04_choosing_k_bic_aic.ipynb")
    survey = _output(cells, "nb04_restarts")
    rows = {
        (int(k), init): (float(ll), int(r), int(n))
        for k, init, ll, r, n in re.findall(
            r"^\s*(\d)\s+(random|kmeans)\s+(-\d+\.\d+)\s+\d+\.\d+\s+(\d+) of (\d+)$", survey, flags=re.M
        )
    }
    notes = cells["nb04_restarts_notes"].source
    assert f"({rows[3, 'random'][1]} of {rows[3, 'random'][2]} here" in notes
    assert f"{rows[5, 'random'][1]} of {rows[5, 'random'][2]} random starts reach" in notes
    assert rows[3, "kmeans"][1] == rows[3, "kmeans"][2] and rows[3, "kmeans"][0] < rows[3, "random"][0] - 1
    assert rows[5, "kmeans"][0] < rows[5, "random"][0] - 0.1, "the text says no k-means start of K = 5 reaches the best"
    two = _output(cells, "nb04_2d_scores")
    assert "BIC chooses tied K = 3; AIC chooses full K = 6" in two
    full3 = re.search(r"full K = 3: log L = (-\d+\.\d+), BIC = (\d+\.\d+)", two)
    text = cells["nb04_2d_notes"].source
    assert full3 and f"$\\log \\hat L = {full3[1]}$ (BIC {full3[2]})" in text
    assert abs(float(full3[1]) - -1114.44) < 0.01, "the best full K = 3 optimum of Old Faithful is near -1114.44"
    reached = re.search(r"^ 3\s+(\d+) of (\d+)", two.split("restarts that reached the best fit")[1], flags=re.M)
    assert f"reached by only {reached[1]} of {reached[2]} random restarts" in text
    cv = _output(cells, "nb04_cv")
    means = [float(v) for v in re.findall(r"^\s+K = \d: (-\d+\.\d+)", cv, flags=re.M)]
    gains = re.findall(r"minus K = 2: ([+-]\d+\.\d+)", cv)
    assert len(means) == 6 and int(np.argmax(means)) + 1 == 5, "the text says the held-out score peaks at K = 5"
    assert f"K = 4 only {means[4] - means[3]:.4f} lower" in cells["nb04_cv_notes"].source
    cv_text = cells["nb04_cv_notes"].source
    assert all(f"{g} (K = {k})" in cv_text for k, g in zip((3, 4, 5, 6), gains[2:], strict=True)), gains


def test_nb04_claim_fit_restarts_screens_with_the_same_updates_as_run_em(faithful):
    """Notebook 4, section 0: the vectorised EM of fit_restarts makes the updates of run_em, for every type."""
    import gmm_reference as ref
    from gmm_reference.fitting import _batched_em, fit_restarts

    rng = np.random.default_rng(404)
    for covariance_type in ("full", "diag", "spherical", "tied"):
        starts = [ref.random_init(faithful, 3, rng, covariance_type) for _ in range(4)]
        full = np.array([ref.to_full_covariances(s[2], covariance_type, 3, 2) for s in starts])
        weights, means, covariances, ll, n_iter = _batched_em(
            faithful,
            np.array([s[0] for s in starts]),
            np.array([s[1] for s in starts]),
            full,
            covariance_type,
            tol=1e-300,
            max_iter=7,
            reg_covar=1e-6,
        )
        assert np.all(n_iter == 7)
        for r, start in enumerate(starts):
            fit = ref.run_em(faithful, start, covariance_type=covariance_type, tol=1e-300, max_iter=7)
            # moments about 0 instead of centred ones: agreement to ~1e-9 relative, far below the 0.1 of "reached"
            np.testing.assert_allclose(ll[r], fit.log_likelihood, rtol=1e-9)
            np.testing.assert_allclose(means[r], fit.means, rtol=1e-7)
            expected = ref.to_full_covariances(fit.covariances, covariance_type, 3, 2)
            np.testing.assert_allclose(covariances[r], expected, rtol=1e-6, atol=1e-9)
        survey = fit_restarts(faithful, 2, covariance_type=covariance_type, n_init=5, rng=1)
        assert survey.n_reached >= 1 and survey.final_log_likelihoods.max() <= survey.best.log_likelihood + 0.1
