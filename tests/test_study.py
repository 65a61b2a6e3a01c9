"""study.py: the plan of the full grid, bad input, and the smoke study end to end (local launcher and a real Slurm).

Run: python -m pytest -q tests/test_study.py            (the end-to-end runs are marked slow: -m "not slow" skips them)
The Slurm tests need a running cluster (.ci/start-slurm starts a single-node one on localhost); without `sbatch` they
skip, except in CI (env CI set), where they fail. Every command is a subprocess from the repository root, as a user
would start it; the smoke study (configs/study/smoke.yaml) runs 10 tiny CPU jobs.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import submitit
import yaml

import study
from config import load_config
from data.tasks import get_task

ROOT = Path(__file__).resolve().parents[1]
SMOKE = "configs/study/smoke.yaml"
PHANG = "configs/study/phang2020.yaml"
CORRELATE = "--n-resamples 99 --no-plots"  # the report's plumbing, not its statistics
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def run_study(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "study.py", *map(str, args)], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=timeout)


def need_slurm() -> None:
    """Skip without Slurm on a user's machine; in CI a missing or dead cluster is a failure."""
    why = None
    if not shutil.which("sbatch"):
        why = "sbatch not found (start a cluster with .ci/start-slurm)"
    elif subprocess.run(["sinfo", "-h"], capture_output=True).returncode != 0:
        why = "sinfo fails: no Slurm controller reachable (.ci/start-slurm)"
    if why and os.environ.get("CI"):
        pytest.fail(f"CI is set but Slurm is not usable: {why}")
    if why:
        pytest.skip(why)


def results_by_key(path: Path) -> dict:
    """(intermediate, target, seed, lang, split, metric) -> value of a results CSV (source differs per study)."""
    return {(r["intermediate_task"], r["target_task"], r["seed"], r["lang"], r["split"], r["metric"]): r["value"]
            for r in csv.DictReader(path.open(encoding="utf-8"))}


def attempts(out: Path) -> dict[str, list]:
    return {j.name: study.read_attempts(j.run_dir) for j in study.build_jobs(study.load_study(ROOT / SMOKE), str(out))}


# --- plan ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_plan_of_phang2020_lists_every_job_with_gpu_hours_the_total_and_the_throughput_source(tmp_path):
    p = run_study("plan", PHANG, "--out-dir", tmp_path)
    assert p.returncode == 0, p.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    jobs = plan["jobs"]
    arms, targets, seeds = 11, 9, 3  # 9 tasks + multitask + multitask_mlm; 7 trained targets + 2 retrieval
    kinds = [j["kind"] for j in jobs]
    assert kinds.count("intermediate") == arms * seeds
    assert kinds.count("target") == arms * 7 * seeds
    assert kinds.count("baseline") == 7 * seeds
    assert kinds.count("retrieval") == arms * 2 * seeds + 2  # + the pretrained model on bucc2018 and tatoeba
    lines = p.stdout.splitlines()
    for j in jobs:  # every job printed with its estimate
        row = next(line for line in lines if line.split()[:2] == [j["name"], j["kind"]])
        assert row.split()[-1] == f"{j['gpu_hours']:.2f}" and j["gpu_hours"] > 0
    assert f"{sum(j['gpu_hours'] for j in jobs):,.1f} GPU-hours" in p.stdout
    assert abs(plan["total_gpu_hours"] - sum(j["gpu_hours"] for j in jobs)) < 1e-9
    # no bench/gpu_throughput.json in the repository: the plan says it assumed the throughput
    assert not study.THROUGHPUT_FILE.exists()
    assert "throughput: 20,000 tokens/s per GPU: ASSUMPTION, not measured" in p.stdout
    # one estimate by hand: mnli -> xnli trains on MNLI's 392,702 pairs x the recipe's epochs x 45 tokens
    job = next(j for j in jobs if j["name"] == "mnli/xnli/s1")
    epochs = load_config([ROOT / "configs/model/xlmr_large.yaml", ROOT / "configs/target/xnli.yaml"]).target.epochs
    assert job["gpu_hours"] == pytest.approx(392_702 * epochs * 45 / 20_000 / 3600)
    assert (job["examples"], job["mean_tokens"]) == (get_task("xnli").train_examples, get_task("xnli").mean_tokens)
    # the README's "Run the whole study" section quotes this plan
    readme = (ROOT / "README.md").read_text().split("## Run the whole study")[1].split("\n## ")[0]
    assert f"{len(jobs)} jobs" in readme and f"about {round(plan['total_gpu_hours'])} GPU-hours" in readme
    for command in ("python study.py plan configs/study/phang2020.yaml", "python study.py run configs/study/phang2020.yaml",
                    "python study.py collect configs/study/phang2020.yaml"):
        assert command in readme


@pytest.mark.slow
def test_plan_uses_a_measured_throughput_and_says_where_it_came_from(tmp_path, monkeypatch, capsys):
    bench = tmp_path / "gpu_throughput.json"
    bench.write_text(json.dumps({"train_tokens_per_s": 40_000, "device": "NVIDIA H100", "date": "2026-11-29"}))
    monkeypatch.setattr(study, "THROUGHPUT_FILE", bench)
    study.main(["plan", str(ROOT / PHANG), "--out-dir", str(tmp_path / "p")])
    out = capsys.readouterr().out
    assert f"throughput: 40,000 tokens/s per GPU, measured by bench/bench_gpu.py on NVIDIA H100 (2026-11-29, {bench})" in out
    assert "ASSUMPTION" not in out
    study.main(["plan", str(ROOT / PHANG), "--out-dir", str(tmp_path / "q"), "--throughput", "10000"])
    assert "10,000 tokens/s per GPU (given with --throughput)" in capsys.readouterr().out


@pytest.mark.slow
def test_each_intermediate_model_is_one_job_per_arm_and_seed_that_every_target_and_retrieval_reuse():
    jobs = study.build_jobs(study.load_study(ROOT / PHANG), "/study")
    inter = {j.name: j for j in jobs if j.kind == "intermediate"}
    assert len({(j.name.split("/")[0], j.name.split("/")[2]) for j in inter.values()}) == len(inter)
    for j in jobs:
        if j.kind == "target":
            (dep,) = j.deps
            assert f"intermediate.from_run={inter[dep].run_dir}" in j.argv and "train.py" == j.argv[0]
            assert dep.split("/")[0] == j.name.split("/")[0] and dep.endswith(j.name.split("/")[2])
        elif j.kind == "retrieval" and j.deps:
            (dep,) = j.deps
            assert j.argv[j.argv.index("--ckpt") + 1] == f"{inter[dep].run_dir}/intermediate/best"
        elif j.kind in ("baseline", "retrieval"):  # from the pretrained model: no intermediate job
            assert not j.deps and not any("from_run" in a for a in j.argv)
    pretrained = [j for j in jobs if j.name.endswith("/pretrained")]
    assert [j.argv[j.argv.index("--ckpt") + 1] for j in pretrained] == ["checkpoints/xlmr.large"] * 2


# --- bad input: one line, before anything is submitted --------------------------------------------------
def study_variant(tmp_path, **change) -> Path:
    raw = yaml.safe_load((ROOT / SMOKE).read_text())
    raw.update(change)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize("change, message", [
    ({"intermediate": ["mnli", "nosuchtask"]}, "intermediate task 'nosuchtask' unknown: no configs/xstilts/nosuchtask.yaml"),
    ({"targets": ["pawsx", "mnli"]}, "target 'mnli' has no recipe configs/target/mnli.yaml"),
    ({"targets": ["pawsx", "xnlii"]}, "target 'xnlii' unknown: not a task of data/tasks.py"),
    ({"seeds": [0, "one"]}, "seeds must be a list of integers"),
    ({"overrides": ["target.lrr=1"]}, "job mnli/none/s0: unknown config key target.lrr"),
])
@pytest.mark.slow
def test_bad_study_config_is_one_line_error_before_anything_runs(tmp_path, change, message):
    out = tmp_path / "out"
    commands = [["run", "--launcher", "slurm"]] + ([["plan"], ["run", "--launcher", "local"]] if "intermediate" in change else [])
    for cmd in commands:
        p = run_study(cmd[0], study_variant(tmp_path, **change), "--out-dir", out, *cmd[1:])
        assert p.returncode == 1 and p.stdout == ""
        assert p.stderr.count("\n") == 1 and message in p.stderr and p.stderr.startswith("study.py: error: "), p.stderr
        assert not out.exists()  # nothing planned, run or submitted


@pytest.mark.slow
def test_unreachable_partition_passes_slurms_own_error_in_one_line_and_submits_nothing(tmp_path):
    need_slurm()
    before = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True).stdout
    p = run_study("run", SMOKE, "--launcher", "slurm", "--partition", "nosuchpartition", "--out-dir", tmp_path / "o")
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
    assert "Slurm refused the job settings (--partition=nosuchpartition" in p.stderr
    assert "sbatch: error:" in p.stderr and "partition" in p.stderr.split("sbatch: error:")[1]  # Slurm's words
    assert not (tmp_path / "o").exists()
    assert subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True).stdout == before


# --- the smoke study end to end -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_study(tmp_path_factory):
    """The smoke study run uninterrupted by the local launcher, then collected."""
    out = tmp_path_factory.mktemp("local") / "smoke"
    p = run_study("run", SMOKE, "--launcher", "local", "--jobs", "2", "--out-dir", out)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    c = run_study("collect", SMOKE, "--out-dir", out, "--correlate-args", CORRELATE)
    assert c.returncode == 0, c.stdout[-3000:] + c.stderr[-3000:]
    return out, p, c


def check_complete_study(out: Path) -> None:
    """results.csv has every (intermediate, target, language), the report exists, and each intermediate model was
    trained once and is the one its targets and retrieval read."""
    rows = results_by_key(out / "results.csv")
    primary = {"pawsx": ("test", "accuracy"), "udpos": ("dev", "f1"), "tatoeba": ("test", "accuracy")}
    for inter in ("mnli", "sst2", "none"):
        for target, (split, metric) in primary.items():
            langs = ["de", "fr"] if target == "tatoeba" else ["en", "de", "fr"]
            if inter == "none" and target == "tatoeba":
                continue  # random init: no pretrained checkpoint to retrieve with
            for lang in langs:
                assert (inter, target, "0", lang, split, metric) in rows, (inter, target, lang)
    assert (out / "report" / "report.md").is_file()
    for arm in ("mnli", "sst2"):
        inter = out / arm / "none" / "s0"
        starts = [a for a in study.read_attempts(inter) if a["event"] == "start"]
        trained = [line for line in (inter / "metrics.jsonl").read_text().splitlines() if '"dev_score"' in line]
        assert len(trained) == 1  # one final evaluation: the phase ran to its end once
        for target in ("pawsx", "udpos"):
            run = out / arm / target / "s0"
            assert load_config(run / "config.yaml").intermediate.from_run == str(inter)
            assert not (run / "intermediate").exists()  # the target job trained no intermediate model of its own
            meta = json.loads((run / "target" / "best" / "head.json").read_text())
            assert meta["intermediate_task"] == arm
        assert f"--ckpt {inter}/intermediate/best" in study.read_attempts(out / arm / "tatoeba" / "s0")[0]["cmd"]
        assert starts and not starts[0]["resume"]


@pytest.mark.slow
def test_smoke_study_runs_end_to_end_with_the_local_launcher_and_a_rerun_does_nothing(local_study):
    out, p, c = local_study
    check_complete_study(out)
    for arm in ("mnli", "sst2"):
        assert len([a for a in study.read_attempts(out / arm / "none" / "s0") if a["event"] == "start"]) == 1
    assert "report in" in c.stdout and "53 rows from 8 runs" in c.stdout
    # each accuracy target's run kept its item scores, and collect handed them to correlate.py
    items = sorted(str(d.relative_to(out)) for d in out.glob("*/*/s0/items") if any(d.glob("items.*.csv")))
    assert items == ["mnli/pawsx/s0/items", "none/pawsx/s0/items", "sst2/pawsx/s0/items"]
    command = next(line for line in c.stdout.splitlines() if "correlate.py" in line).split()
    given = command[command.index("--item-scores") + 1:]
    assert sorted(given[:len(items)]) == [str(out / d) for d in items] and given[len(items)].startswith("--")
    before = attempts(out)
    again = run_study("run", SMOKE, "--launcher", "local", "--out-dir", out)
    assert again.returncode == 0 and "10 of 10 jobs done already, 0 to run" in again.stdout
    assert attempts(out) == before
    s = run_study("status", SMOKE, "--out-dir", out)
    assert s.returncode == 0 and s.stdout.splitlines()[-1] == "total: 10 done"


@pytest.mark.slow
def test_every_training_run_writes_tensorboard_scalars_equal_to_its_metrics_jsonl(local_study):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = local_study[0]
    for run in ("mnli/none/s0", "sst2/pawsx/s0", "none/udpos/s0"):
        records = [json.loads(line) for line in (out / run / "metrics.jsonl").read_text().splitlines()]
        events = {}  # one event folder per phase (runs.TB_DIR/<phase>)
        for phase in {r["phase"] for r in records}:
            events[phase] = EventAccumulator(str(out / run / "tensorboard" / phase))
            events[phase].Reload()
        tags = {t for e in events.values() for t in e.Tags()["scalars"]}
        for r in records:
            for key in ("loss", "lr", "tokens_per_s", "dev_score"):
                if key in r:
                    tag = f"{r['phase']}/{key}"
                    assert tag in tags, (run, tag)
                    value = {e.step: e.value for e in events[r["phase"]].Scalars(tag)}[r["step"]]
                    assert value == pytest.approx(r[key], rel=1e-6), (run, tag, r["step"])
        phase = "intermediate" if run.endswith("none/s0") else "target"
        assert {f"{phase}/loss", f"{phase}/lr", f"{phase}/tokens_per_s", f"{phase}/dev_score"} <= tags


# --- bench/bench_gpu.py ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_bench_gpu_without_a_gpu_exits_with_a_clear_message():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: run python bench/bench_gpu.py itself")
    p = subprocess.run([sys.executable, "bench/bench_gpu.py"], cwd=ROOT, env=ENV, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr == ("bench_gpu.py: no CUDA GPU visible (torch.cuda.is_available() is False); run it on a GPU "
                        "machine. study.py plan keeps its labelled throughput assumption until then.\n")


@pytest.mark.slow
def test_bench_gpu_check_runs_every_task_kind_and_faiss_on_cpu():
    p = subprocess.run([sys.executable, "bench/bench_gpu.py", "--check"], cwd=ROOT, env=ENV, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    for kind in ("pair_cls", "tag", "span", "multiple_choice", "faiss kNN 2,000 x 2,000"):
        assert kind in p.stdout


@pytest.mark.slow
def test_bench_gpu_results_feed_the_plan(tmp_path, monkeypatch, capsys):
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_gpu

    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Other\ntext\n")
    monkeypatch.setattr(bench_gpu, "RESULTS_MD", results)
    monkeypatch.setattr(bench_gpu, "THROUGHPUT_JSON", tmp_path / "gpu_throughput.json")
    rows = {k: {"tokens_per_s": v, "mfu": "40.0%", "peak_gib": 20.0}
            for k, v in (("pair_cls", 30_000.0), ("tag", 36_000.0), ("span", 24_000.0), ("multiple_choice", 20_000.0))}
    faiss_res = {"n": 1000, "cpu_s": 2.0, "gpu_s": 0.5, "top1_agree": 1.0}
    args = type("A", (), {"steps": 20, "warmup": 5})()
    bench_gpu.write_results(rows, faiss_res, "NVIDIA H100 80GB HBM3", args)
    bench_gpu.write_results(rows, faiss_res, "NVIDIA H100 80GB HBM3", args)
    text = results.read_text()
    assert text.count(bench_gpu.SECTION) == 1 and text.count("| NVIDIA H100 80GB HBM3 |") == 2
    assert "pair_cls 30,000 tok/s, MFU 40.0%, 20.0 GiB" in text and "GPU 0.50 s (4.0x" in text
    monkeypatch.setattr(study, "THROUGHPUT_FILE", tmp_path / "gpu_throughput.json")
    speed, per_kind, source = study.read_throughput()
    assert speed == 27_000 and per_kind["span"] == 24_000  # the median of the four kinds; each kind its own
    assert "measured by bench/bench_gpu.py on NVIDIA H100 80GB HBM3" in source
    jobs = study.build_jobs(study.load_study(ROOT / PHANG), "/study")
    study.add_estimates(jobs, speed, per_kind)
    job = next(j for j in jobs if j.name == "squad/xquad/s1")  # trains on SQuAD: the span figure
    assert job.gpu_hours == pytest.approx(job.examples * job.epochs * job.mean_tokens / 24_000 / 3600)


@pytest.mark.slow
def test_slurm_study_killed_midway_then_rerun_finishes_repeats_nothing_and_equals_the_uninterrupted(
        tmp_path, local_study):
    need_slurm()
    # the smoke study's two intermediate arms with one target and retrieval each (6 jobs; udpos and the baselines
    # run in local_study): the same jobs, so the same numbers as the local launcher's
    cfg = study_variant(tmp_path, targets=["pawsx", "tatoeba"], baselines=False, target_overrides={})
    out = tmp_path / "smoke"
    driver = subprocess.Popen([sys.executable, "study.py", "run", cfg, "--launcher", "slurm", "--out-dir", str(out),
                               "--poll", "0.5"], cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        # wait until an intermediate job is midway (a resumable checkpoint written, the phase not done)
        victim, deadline = None, time.time() + 120
        while victim is None and time.time() < deadline and driver.poll() is None:
            for arm in ("mnli", "sst2"):
                if ((out / arm / "none" / "s0" / "intermediate" / "checkpoint.pt").is_file()
                        and (out / "submitted.json").is_file()):
                    victim = arm
            time.sleep(0.02)
        assert victim, f"no intermediate job reached a checkpoint: {driver.poll()}"
        submitted = json.loads((out / "submitted.json").read_text())
        subprocess.run(["scancel", submitted[f"{victim}/none/s0"]], check=True)
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
    victim_dir = out / victim / "none" / "s0"
    deadline = time.time() + 60  # the cancelled job is gone; the other jobs keep running in Slurm
    while submitted[f"{victim}/none/s0"] in study.squeue_states() and time.time() < deadline:
        time.sleep(0.5)
    assert not (victim_dir / "intermediate" / "done.json").exists(), "the job finished before it was cancelled"
    assert (victim_dir / "config.yaml").is_file()
    before = attempts(out)
    done_before = {n for n, a in before.items() if a and a[-1]["event"] == "end" and a[-1]["rc"] == 0}
    status = run_study("status", cfg, "--out-dir", out)
    assert f"{victim}/none/s0" in status.stdout

    p = run_study("run", cfg, "--launcher", "slurm", "--out-dir", out, "--poll", "0.5")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    after = attempts(out)
    for name in done_before:  # no finished job ran again
        assert after[name] == before[name], name
    starts = [a for a in after[f"{victim}/none/s0"] if a["event"] == "start"]
    assert [a["resume"] for a in starts] == [False, True]  # killed once, resumed from its checkpoint once
    assert sum(1 for a in after.values() for s in a if s["event"] == "start" and not s["resume"]) == 6

    c = run_study("collect", cfg, "--out-dir", out, "--correlate-args", CORRELATE)
    assert c.returncode == 0, c.stdout[-3000:] + c.stderr[-3000:]
    assert (out / "report" / "report.md").is_file()
    local = {k: v for k, v in results_by_key(local_study[0] / "results.csv").items()
             if k[0] in ("mnli", "sst2") and k[1] in ("pawsx", "tatoeba")}
    assert local and results_by_key(out / "results.csv") == local


@pytest.mark.slow
def test_requeued_slurm_job_resumes_from_its_checkpoint_and_the_rerun_waits_for_it(tmp_path, local_study):
    need_slurm()
    cfg = study_variant(tmp_path, intermediate=["mnli"], targets=["tatoeba"], baselines=False,
                        target_overrides={})
    out = tmp_path / "requeue"
    p = run_study("run", cfg, "--launcher", "slurm", "--out-dir", out, "--no-wait")
    assert p.returncode == 0, p.stderr
    inter = out / "mnli" / "none" / "s0"
    deadline = time.time() + 120
    while not (inter / "intermediate" / "checkpoint.pt").is_file() and time.time() < deadline:
        time.sleep(0.02)
    jid = json.loads((out / "submitted.json").read_text())["mnli/none/s0"]
    subprocess.run(["scontrol", "requeue", jid], check=True)  # what a preemption with PreemptMode=REQUEUE does
    requeued_at = time.time()

    def why() -> str:  # what the job did, for a failure message
        log = (inter / "study.log").read_text(errors="replace") if (inter / "study.log").is_file() else ""
        return (f"squeue: {study.squeue_states(reasons=True).get(jid)}; attempts: {study.read_attempts(inter)}; "
                f"study.log ends: {log[-2000:]}")

    # Slurm holds a requeued job back for two minutes: its reason turns to BeginTime a moment after it is PENDING
    # again (an earlier StartTime=now would be overwritten); then start it now. Not in the second of the requeue:
    # slurmd refuses a launch whose credential is not newer, in whole seconds, than the job's revoked one ("Killing
    # non-startable batch job: Job credential revoked" in slurmctld.log, the job then fails), which is why Slurm
    # holds requeued jobs back at all.
    deadline = requeued_at + 120
    while study.squeue_states(reasons=True).get(jid) != "PENDING BeginTime" and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(max(0.0, requeued_at + 2.5 - time.time()))
    subprocess.run(["scontrol", "update", f"JobId={jid}", "StartTime=now"], check=True)
    deadline = time.time() + 180  # Slurm would start it by itself after its two minutes
    while sum(a["event"] == "start" for a in study.read_attempts(inter)) < 2 and time.time() < deadline:
        time.sleep(0.1)  # the requeued job started again
    assert sum(a["event"] == "start" for a in study.read_attempts(inter)) == 2, why()
    p = run_study("run", cfg, "--launcher", "slurm", "--out-dir", out, "--poll", "0.5")
    assert p.returncode == 0 and "submitted" not in p.stdout, p.stdout + why()  # it waited for the queued jobs
    starts = [a for a in study.read_attempts(inter) if a["event"] == "start"]
    assert [(a["job"], a["resume"]) for a in starts] == [(jid, False), (jid, True)]
    local = {k: v for k, v in results_by_key(local_study[0] / "results.csv").items() if k[:2] == ("mnli", "tatoeba")}
    assert results_by_key(out / "mnli" / "tatoeba" / "s0" / "results.csv") == local  # the same intermediate model


def test_a_training_job_runs_under_torchrun_with_several_gpus_and_resumes_a_started_run(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 3)

    monkeypatch.setattr(study.subprocess, "run", fake_run)
    job = {"name": "mnli/none/s1", "kind": "intermediate", "run_dir": str(tmp_path / "r"), "gpus": 4,
           "distributed": True, "argv": ["train.py", "--cfg", "a.yaml"]}
    with pytest.raises(RuntimeError, match="mnli/none/s1: exit code 3"):
        study.run_job(job)
    assert calls[-1] == [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4",
                         "train.py", "--cfg", "a.yaml"]
    (tmp_path / "r" / "config.yaml").write_text("x")  # a started run: resume it
    with pytest.raises(RuntimeError):
        study.run_job({**job, "gpus": 1})
    assert calls[-1] == [sys.executable, "train.py", "--cfg", "a.yaml", "--resume"]
    with pytest.raises(RuntimeError):  # retrieval is one process whatever the GPUs (FAISS uses them all)
        study.run_job({**job, "kind": "retrieval", "distributed": False, "argv": ["retrieval.py", "--ckpt", "c"]})
    assert calls[-1] == [sys.executable, "retrieval.py", "--ckpt", "c"]
    assert isinstance(study.SlurmJob(), submitit.helpers.Checkpointable)  # requeued on preemption or timeout


@pytest.mark.slow
def test_status_shows_a_failed_job_with_its_last_error_line(tmp_path):
    cfg = study_variant(tmp_path, intermediate=["mnli"], targets=["pawsx"], baselines=False, target_overrides={},
                        overrides=yaml.safe_load((ROOT / SMOKE).read_text())["overrides"] + ["data.data_dir=nowhere"])
    out = tmp_path / "failing"
    p = run_study("run", cfg, "--launcher", "local", "--out-dir", out)
    assert p.returncode == 1 and "study.py: 2 job(s) not done: mnli/none/s0, mnli/pawsx/s0" in p.stderr, p.stderr
    s = run_study("status", cfg, "--out-dir", out)
    lines = s.stdout.splitlines()
    assert lines[0] == ("failed       mnli/none/s0  config error: config key data.data_dir: nowhere not found "
                        "(expected the data folder; see data/download.py)")
    assert lines[1] == "pending      mnli/pawsx/s0" and lines[-1] == "total: 1 failed, 1 pending"


@pytest.mark.slow
def test_the_many_language_study_plans_and_its_smoke_variant_runs_end_to_end(tmp_path):
    plan = run_study("plan", "configs/study/many_languages.yaml", "--out-dir", tmp_path / "plan")
    assert plan.returncode == 0, plan.stderr
    jobs = json.loads((tmp_path / "plan" / "plan.json").read_text())["jobs"]
    targets = {j["name"].split("/")[1] for j in jobs}
    assert {"sib200", "belebele", "americasnli", "xcopa", "flores", "tatoeba_all"} <= targets
    out = tmp_path / "smoke"
    p = run_study("run", "configs/study/many_languages_smoke.yaml", "--launcher", "local", "--jobs", "2",
                  "--out-dir", out, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "study done: 7 jobs" in p.stdout
    rows = [r for f in out.rglob("results.csv") for r in csv.DictReader(f.open(encoding="utf-8"))]
    assert {(r["target_task"], r["lang"]) for r in rows if r["metric"] == "accuracy"} >= {
        ("sib200", "de"), ("belebele", "de"), ("americasnli", "quy"), ("xcopa", "ht"), ("flores", "de"),
        ("tatoeba_all", "de")}
