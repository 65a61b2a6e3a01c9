"""The whole study in one command: plan, launch (Slurm through submitit, or this machine), resume and collect the grid.

    python study.py plan configs/study/phang2020.yaml                       # the job graph and its GPU-hours
    python study.py run configs/study/phang2020.yaml --launcher slurm --partition gpu --account A --time 1440
    python study.py status configs/study/phang2020.yaml                     # done / running / failed / pending
    python study.py collect configs/study/phang2020.yaml                    # one results CSV, then correlate.py
    python study.py run configs/study/smoke.yaml --launcher local           # the tiny study on CPU, ~1 minute

A study config (configs/study/*.yaml) names recipes, it does not copy them: the model block
(configs/model/xlmr_large.yaml), the intermediate recipes configs/xstilts/<arm>.yaml (plus variants: a recipe with
overrides, e.g. the MLM arm), the target recipes configs/target/<target>.yaml, the seeds, and whether to run the
baselines. Every job is one command of the project's entry points:
    intermediate  train.py --cfg MODEL xstilts/ARM.yaml                      -> OUT/ARM/none/sS (trained once per
                  (arm, seed), reused by every target and by retrieval)
    target        train.py --cfg MODEL target/T.yaml intermediate.from_run=OUT/ARM/none/sS   -> OUT/ARM/T/sS
    baseline      train.py --cfg MODEL target/T.yaml                         -> OUT/none/T/sS (no intermediate)
    retrieval     retrieval.py --ckpt OUT/ARM/none/sS/intermediate/best --task T   -> OUT/ARM/T/sS
                  (baseline: the pretrained checkpoint itself -> OUT/none/T/pretrained; nothing to train)
Targets and intermediate retrieval depend on their intermediate job; the rest depend on nothing.

Idempotent and resumable: every job has a deterministic run folder, and completion is read from it (train.py's
<phase>/done.json and results.csv; retrieval.py's results.csv), never from the scheduler's accounting, so clusters
without sacct work. Running the same command again skips finished jobs, resumes interrupted ones (train.py --resume:
bit-identical on CPU), and never retrains a finished intermediate model. Slurm jobs are submitit Checkpointables: a
preempted or timed-out job is requeued and resumes from its last checkpoint. A job that is still queued or running
from an earlier driver (squeue) is waited for, not submitted twice. Each run folder gets study.log (the job's
output, appended per attempt) and study_attempts.jsonl (one line per start and end).

One writer at a time: `run` holds the study folder's lock (runs.STUDY_LOCK, an flock that dies with the driver), and
a second driver on the same study stops with a line naming the holder (pid and host); each train.py holds its run
folder's lock the same way, and `status` reports a run folder whose lock is held as running. A job's child process
(train.py, torchrun, retrieval.py) is started with PR_SET_PDEATHSIG=SIGTERM (Linux; see `_die_with_parent`): when the
launcher dies, even by SIGKILL, the kernel sends the child SIGTERM, so no orphan keeps training in the folder
(torchrun passes SIGTERM on to its workers).

GPU-hours per job = training examples x epochs x mean tokens / throughput (retrieval: sentences x tokens /
(3 x throughput), forward only); sizes are data/tasks.py's registry figures. The throughput is the measured one of
bench/gpu_throughput.json (python bench/bench_gpu.py on a GPU) when present, else ASSUMED_TOKENS_PER_S, labelled as
an assumption in the plan.

Study folder (`out_dir`): plan.json, submitted.json (Slurm job ids), slurm/ (submitit's logs), results.csv
(collect: the project's schema, data/results.py) and report/ (correlate.py's output with the published baselines).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from common.io import atomic_write_text
from runs import BEST, RUN_CONFIG, RUN_RESULTS, STUDY_LOCK, held_by, hold_lock, phase_done, phase_path

ROOT = Path(__file__).resolve().parent
RECIPES = ROOT / "configs"  # configs/xstilts/<arm>.yaml, configs/target/<target>.yaml
THROUGHPUT_FILE = ROOT / "bench" / "gpu_throughput.json"  # written by bench/bench_gpu.py
ASSUMED_TOKENS_PER_S = 20_000  # [R] XLM-R Large bf16 training on one A100-class GPU at ~20% MFU; an assumption
STUDY_KEYS = ("model", "out_dir", "intermediate", "variants", "targets", "seeds", "baselines", "overrides",
              "target_overrides", "retrieval", "slurm")
SLURM_KEYS = ("partition", "account", "time", "gpus_per_job", "cpus_per_job", "mem", "qos", "constraint")
RETRIEVAL_KEYS = ("langs", "batch_size", "max_len")
KINDS = ("intermediate", "target", "baseline", "retrieval")


@dataclass
class Study:
    path: str  # the study config file
    model: str  # the model block (a YAML of configs/model/)
    out_dir: str  # the study folder; run folders lie under it
    arms: dict  # intermediate arm name -> (recipe name, [overrides])
    targets: list  # target recipe names
    seeds: list
    baselines: bool = True
    overrides: list = field(default_factory=list)  # appended to every train.py job
    target_overrides: dict = field(default_factory=dict)  # target -> overrides of its jobs
    retrieval: dict = field(default_factory=dict)  # langs, batch_size, max_len for retrieval.py
    slurm: dict = field(default_factory=dict)  # default Slurm settings (command-line flags win)


@dataclass
class Job:
    name: str  # the run folder relative to out_dir: ARM/TARGET/sSEED (unique, deterministic)
    kind: str  # intermediate | target | baseline | retrieval
    run_dir: str
    argv: list  # the entry point and its arguments, run with the study's python from the repository root
    deps: list = field(default_factory=list)  # names of jobs that must be done first
    distributed: bool = False  # a train.py job: torchrun with --gpus-per-job > 1
    examples: int = 0  # GPU-hour estimate inputs
    epochs: float = 0.0
    mean_tokens: int = 0
    forward_only: bool = False
    task_kind: str = ""  # the kind of its (largest) training task: picks a measured per-kind throughput
    gpu_hours: float = 0.0


# --- the study config ----------------------------------------------------------------------------------
def _recipe(kind: str, name: str) -> Path:
    return RECIPES / ("xstilts" if kind == "intermediate" else "target") / f"{name}.yaml"


def _known(kind: str) -> str:
    return " ".join(sorted(p.stem for p in (RECIPES / ("xstilts" if kind == "intermediate" else "target")).glob("*.yaml")))


def load_study(path) -> Study:
    """Read and check a study config; every error is one ValueError naming the file and the entry."""
    from data.tasks import TASKS

    path = str(path)
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except FileNotFoundError:
        raise ValueError(f"{path}: study config not found") from None
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML ({' '.join(str(e).split())})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping with keys {', '.join(STUDY_KEYS)}")
    unknown = sorted(set(raw) - set(STUDY_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(STUDY_KEYS)})")
    for key in ("model", "out_dir", "targets", "seeds"):
        if not raw.get(key):
            raise ValueError(f"{path}: {key!r} is missing or empty")

    def strs(key, value) -> list:
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            raise ValueError(f"{path}: {key} must be a list of strings, got {value!r}")
        return [str(v) for v in value]

    if not os.path.isfile(ROOT / raw["model"]):
        raise ValueError(f"{path}: model {raw['model']!r} not found (expected a YAML such as configs/model/xlmr_large.yaml)")
    arms = {}
    for name in strs("intermediate", raw.get("intermediate") or []):
        if not _recipe("intermediate", name).is_file():
            hint = f"; the task {name} has no recipe" if name in TASKS else ""
            raise ValueError(f"{path}: intermediate task {name!r} unknown: no configs/xstilts/{name}.yaml{hint} "
                             f"(known: {_known('intermediate')})")
        arms[name] = (name, [])
    variants = raw.get("variants") or {}
    if not isinstance(variants, dict):
        raise ValueError(f"{path}: variants must be a mapping name -> {{recipe: ..., overrides: [...]}}")
    for name, v in variants.items():
        if not isinstance(v, dict) or not v.get("recipe") or set(v) - {"recipe", "overrides"}:
            raise ValueError(f"{path}: variant {name!r} must be {{recipe: NAME, overrides: [...]}}, got {v!r}")
        if not _recipe("intermediate", v["recipe"]).is_file():
            raise ValueError(f"{path}: variant {name!r}: intermediate recipe {v['recipe']!r} unknown: no "
                             f"configs/xstilts/{v['recipe']}.yaml (known: {_known('intermediate')})")
        if name in arms or name == "none":
            raise ValueError(f"{path}: variant name {name!r} is taken")
        arms[str(name)] = (v["recipe"], strs(f"variant {name} overrides", v.get("overrides") or []))
    targets = strs("targets", raw["targets"])
    for t in targets:
        if t not in TASKS:
            raise ValueError(f"{path}: target {t!r} unknown: not a task of data/tasks.py (targets: "
                             f"{' '.join(n for n, task in TASKS.items() if task.target)})")
        if not _recipe("target", t).is_file():
            raise ValueError(f"{path}: target {t!r} has no recipe configs/target/{t}.yaml (known: {_known('target')})")
    seeds = raw["seeds"]
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"{path}: seeds must be a list of integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds) or len(set(targets)) != len(targets):
        raise ValueError(f"{path}: seeds and targets must not repeat")
    if not isinstance(raw.get("baselines", True), bool):
        raise ValueError(f"{path}: baselines must be true or false")
    tov = raw.get("target_overrides") or {}
    if not isinstance(tov, dict) or set(tov) - set(targets):
        raise ValueError(f"{path}: target_overrides must map study targets to override lists, got {tov!r}")
    for section, keys in (("retrieval", RETRIEVAL_KEYS), ("slurm", SLURM_KEYS)):
        sec = raw.get(section) or {}
        if not isinstance(sec, dict) or set(sec) - set(keys):
            raise ValueError(f"{path}: {section} must be a mapping with keys among {', '.join(keys)}, got {sec!r}")
    return Study(path=path, model=raw["model"], out_dir=str(raw["out_dir"]), arms=arms, targets=targets,
                 seeds=list(seeds), baselines=raw.get("baselines", True),
                 overrides=strs("overrides", raw.get("overrides") or []),
                 target_overrides={t: strs(f"target_overrides.{t}", v) for t, v in tov.items()},
                 retrieval=dict(raw.get("retrieval") or {}), slurm=dict(raw.get("slurm") or {}))


# --- the job graph -------------------------------------------------------------------------------------
def _load(study: Study, files: list, overrides: list, what: str):
    """The resolved train.py config of a job; a bad recipe or override is an error naming the job."""
    from config import load_config

    try:
        return load_config([str(ROOT / f) for f in files], overrides)
    except ValueError as e:
        raise ValueError(f"{study.path}: job {what}: {e}") from None


def build_jobs(study: Study, out_dir: str | None = None) -> list[Job]:
    """Every job of the study, intermediate jobs first; each train.py config is loaded and checked here."""
    from data.tasks import get_task

    out = Path(out_dir or study.out_dir)
    jobs: list[Job] = []
    loaded = {}  # job name -> its resolved config (retrieval reads the model name and data folders from one)
    py = ["train.py", "--cfg"]

    def train_job(name, kind, files, overrides, seed, deps=(), example_cfg=None):
        run = out / name
        args = [*overrides, f"train.seed={seed}", f"train.out_dir={run}", f"eval.results={run / RUN_RESULTS}"]
        job = Job(name, kind, str(run), [*py, *files, *args], list(deps), distributed=True)
        cfg = loaded[name] = example_cfg or _load(study, files, args, name)
        estimate_train(job, cfg)
        return job

    def retrieval_job(name, task, ckpt, base, deps=(), extra=()):
        run = out / name
        r = study.retrieval
        langs = ["--langs", ",".join(r["langs"])] if r.get("langs") else ["--all-langs"]
        argv = ["retrieval.py", "--ckpt", str(ckpt), "--task", task, *langs, "--data-dir",
                base.data.task_data_dirs.get(task, base.data.data_dir), "--results", str(run / RUN_RESULTS),
                "--model", base.model.name, *extra]
        for key in ("batch_size", "max_len"):
            if key in r:
                argv += [f"--{key.replace('_', '-')}", str(r[key])]
        t = get_task(task)
        return Job(name, "retrieval", str(run), argv, list(deps), examples=t.train_examples, epochs=1,
                   mean_tokens=t.mean_tokens, forward_only=True)

    model = [study.model]
    for seed in study.seeds:
        for arm, (recipe, arm_over) in study.arms.items():
            files = model + [f"configs/xstilts/{recipe}.yaml"]
            inter = train_job(f"{arm}/none/s{seed}", "intermediate", files,
                              [*study.overrides, *arm_over, "target.task=", "eval.langs=[]"], seed)
            jobs.append(inter)
            for t in study.targets:
                task = get_task(t)
                if task.kind == "retrieval":
                    jobs.append(retrieval_job(f"{arm}/{t}/s{seed}", t,
                                              phase_path(inter.run_dir, "intermediate", BEST),
                                              loaded[inter.name], [inter.name]))
                    continue
                over = [*study.overrides, *study.target_overrides.get(t, []), "intermediate.tasks=[]",
                        "data.mlm_files=[]"]
                # checked as a baseline: from_run needs the finished intermediate folder, which comes later
                check = _load(study, model + [f"configs/target/{t}.yaml"],
                              [*over, f"train.seed={seed}"], f"{arm}/{t}/s{seed}")
                jobs.append(train_job(f"{arm}/{t}/s{seed}", "target", model + [f"configs/target/{t}.yaml"],
                                      [*over, f"intermediate.from_run={inter.run_dir}"], seed, [inter.name], check))
        if study.baselines:
            for t in study.targets:
                if get_task(t).kind == "retrieval":
                    continue
                over = [*study.overrides, *study.target_overrides.get(t, []), "intermediate.tasks=[]",
                        "data.mlm_files=[]"]
                jobs.append(train_job(f"none/{t}/s{seed}", "baseline", model + [f"configs/target/{t}.yaml"], over,
                                      seed))
    retrieval_targets = [t for t in study.targets if get_task(t).kind == "retrieval"]
    if study.baselines and retrieval_targets:  # the pretrained model scored as it is: once, no seed
        base = next(iter(loaded.values()), None) or _load(
            study, [study.model, f"configs/target/{retrieval_targets[0]}.yaml"],
            [*study.overrides, "intermediate.tasks=[mnli]"], "model block")  # only its model and data folders
        for t in retrieval_targets if base.model.path else ():  # a random-init model has no checkpoint
            jobs.append(retrieval_job(f"none/{t}/pretrained", t, base.model.path, base,
                                      extra=["--intermediate-task", "none"]))
    jobs.sort(key=lambda j: KINDS.index(j.kind) if j.kind != "retrieval" or j.deps else 0)
    return jobs


def estimate_train(job: Job, cfg) -> None:
    """Examples, epochs and mean tokens of a train.py job from its resolved config and the registry sizes."""
    from data.tasks import get_task

    if job.kind == "intermediate":
        it = cfg.intermediate
        sizes = {t: (get_task(t).train_examples, get_task(t).mean_tokens) for t in it.tasks}
        if cfg.data.mlm_files:  # the MLM arm: lines of raw text of up to max_len tokens
            sizes["mlm"] = (it.mlm_examples or it.cap or 100_000, it.max_len)
        capped = {t: min(n, it.cap) if it.cap else n for t, (n, _) in sizes.items()}
        job.examples = sum(capped.values())
        job.task_kind = get_task(max(it.tasks, key=lambda t: capped[t])).kind
        job.mean_tokens = round(sum(capped[t] * sizes[t][1] for t in sizes) / max(1, job.examples))
        phase = it
    else:
        task = get_task(cfg.target.train_task)
        job.examples, job.mean_tokens, phase = task.train_examples, task.mean_tokens, cfg.target
        job.task_kind = task.kind
    effective = phase.batch_size * phase.grad_accum
    job.epochs = (phase.max_steps * effective / max(1, job.examples)) if phase.max_steps else phase.epochs


def read_throughput(given: float | None = None) -> tuple[float, dict, str]:
    """(tokens/s per GPU, {task kind: tokens/s} where measured, where the figures came from): --throughput, else
    bench/gpu_throughput.json (bench/bench_gpu.py), else the labelled assumption."""
    if given:
        return float(given), {}, f"{given:,.0f} tokens/s per GPU (given with --throughput)"
    if THROUGHPUT_FILE.is_file():
        m = json.loads(THROUGHPUT_FILE.read_text(encoding="utf-8"))
        per_kind = {k: float(v) for k, v in (m.get("per_kind") or {}).items()}
        return (float(m["train_tokens_per_s"]), per_kind,
                f"{m['train_tokens_per_s']:,.0f} tokens/s per GPU, measured by bench/bench_gpu.py on {m['device']} "
                f"({m['date']}, {THROUGHPUT_FILE})" + (f"; per task kind: " + ", ".join(
                    f"{k} {v:,.0f}" for k, v in per_kind.items()) if per_kind else ""))
    return (float(ASSUMED_TOKENS_PER_S), {},
            f"{ASSUMED_TOKENS_PER_S:,} tokens/s per GPU: ASSUMPTION, not measured (XLM-R Large bf16 on an A100-class "
            f"GPU at ~20% MFU); measure it with python bench/bench_gpu.py")


def add_estimates(jobs: list[Job], tokens_per_s: float, per_kind: dict | None = None) -> float:
    for j in jobs:
        speed = (per_kind or {}).get(j.task_kind, tokens_per_s) * (3 if j.forward_only else 1)  # forward only: ~1/3 of a training step's FLOPs
        j.gpu_hours = j.examples * j.epochs * j.mean_tokens / speed / 3600
    return sum(j.gpu_hours for j in jobs)


# --- run folders: completion, attempts ----------------------------------------------------------------
def job_done(job: Job | dict) -> bool:
    """Completion read from the run folder (never from the scheduler)."""
    kind, run = (job.kind, Path(job.run_dir)) if isinstance(job, Job) else (job["kind"], Path(job["run_dir"]))
    if kind == "intermediate":
        return phase_done(run, "intermediate")
    if kind in ("target", "baseline"):  # trained, then evaluated in every language
        return phase_done(run, "target") and (run / RUN_RESULTS).is_file()
    return (run / RUN_RESULTS).is_file()


def _note(run: Path, record: dict) -> None:
    run.mkdir(parents=True, exist_ok=True)
    with open(run / "study_attempts.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def read_attempts(run_dir) -> list[dict]:
    p = Path(run_dir) / "study_attempts.jsonl"
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines()] if p.is_file() else []


def last_error_line(run_dir) -> str:
    """The last line of study.log that reads like an error (else its last non-empty line)."""
    p = Path(run_dir) / "study.log"
    if not p.is_file():
        return ""
    lines = [line.strip() for line in p.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "exception" in line.lower()]
    return (errors or lines or [""])[-1][:300]


def run_job(job: dict) -> str:
    """Run one job to completion in its run folder (the body of every local and Slurm job).

    Finished: nothing to do. A train.py job with a config.yaml already in its run folder resumes (--resume).
    Raises RuntimeError with the last error line when the command fails."""
    run = Path(job["run_dir"])
    if job_done(job):
        return f"{job['name']}: already done"
    argv = list(job["argv"])
    resumed = argv[0] == "train.py" and (run / RUN_CONFIG).is_file()
    if resumed:
        argv.append("--resume")
    gpus = int(job.get("gpus", 0))
    cmd = [sys.executable, *argv]
    if job.get("distributed") and gpus > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}", *argv]
    where = os.environ.get("SLURM_JOB_ID", "local")
    if os.environ.get("SLURM_ARRAY_JOB_ID"):
        where = f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ.get('SLURM_ARRAY_TASK_ID', '')}"
    _note(run, {"event": "start", "time": time.time(), "job": where, "resume": resumed, "cmd": shlex.join(cmd)})
    with open(run / "study.log", "a", encoding="utf-8") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {where}: {shlex.join(cmd)}\n")
        log.flush()
        rc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=job_env(job),
                            preexec_fn=_die_with_parent()).returncode
    _note(run, {"event": "end", "time": time.time(), "job": where, "rc": rc})
    if rc != 0 or not job_done(job):
        raise RuntimeError(f"{job['name']}: exit code {rc}: {last_error_line(run)}")
    return f"{job['name']}: done"


def _die_with_parent():
    """A preexec_fn that makes the child get SIGTERM when the thread that started it dies (prctl(2)
    PR_SET_PDEATHSIG; the thread of run_job waits for its child, so that is the launcher's lifetime). Linux only:
    None elsewhere. libc and the function are looked up here, in the parent, so the child runs one plain call
    between fork and exec. The os.getppid check closes the race of a parent that died before the prctl."""
    import ctypes
    import ctypes.util
    import signal

    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the launcher is already gone
            os.kill(os.getpid(), signal.SIGTERM)
    return set_death_signal


def job_env(job: dict) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    if job.get("cuda_visible_devices") is not None:
        env["CUDA_VISIBLE_DEVICES"] = job["cuda_visible_devices"]
    return env


try:
    from submitit.helpers import Checkpointable as _Checkpointable
except ImportError:  # submitit is only needed for --launcher slurm
    _Checkpointable = object


class SlurmJob(_Checkpointable):
    """What submitit runs on the cluster: run_job(job). Checkpointable: on preemption or timeout submitit requeues
    the same call, and run_job resumes from the run folder's last checkpoint."""

    def __call__(self, job: dict) -> str:
        return run_job(job)


# --- launchers -----------------------------------------------------------------------------------------
def job_dict(job: Job, gpus: int) -> dict:
    return {"name": job.name, "kind": job.kind, "run_dir": job.run_dir, "argv": job.argv, "gpus": gpus,
            "distributed": job.distributed}


def run_local(jobs: list[Job], workers: int, gpus_per_job: int) -> list[str]:
    """Run the graph on this machine, `workers` jobs at a time (one per visible GPU group); returns failed names."""
    todo = {j.name: j for j in jobs if not job_done(j)}
    done = {j.name for j in jobs} - set(todo)
    failed: list[str] = []
    slots = list(range(workers))
    running: dict = {}
    print(f"local: {len(done)} of {len(jobs)} jobs done already, {len(todo)} to run, {workers} at a time")
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        while todo or running:
            blocked = [n for n, j in todo.items() if any(d in failed for d in j.deps)]
            for n in blocked:
                print(f"  skipped {n}: its intermediate job failed")
                failed.append(n)
                del todo[n]
            for name in [n for n, j in todo.items() if all(d in done for d in j.deps)]:
                if not slots:
                    break
                slot = slots.pop()
                d = job_dict(todo.pop(name), gpus_per_job)
                if gpus_per_job:
                    d["cuda_visible_devices"] = ",".join(str(slot * gpus_per_job + i) for i in range(gpus_per_job))
                print(f"  start {name}")
                running[pool.submit(run_job, d)] = (name, slot)
            if not running:
                break
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                name, slot = running.pop(fut)
                slots.append(slot)
                try:
                    print(f"  {fut.result()}")
                    done.add(name)
                except RuntimeError as e:
                    print(f"  FAILED {e}")
                    failed.append(name)
    return failed


def slurm_flags(args) -> list[str]:
    """sbatch flags of the chosen settings (for the --test-only check before anything is submitted)."""
    flags = [f"--partition={args.partition}"] if args.partition else []
    flags += [f"--account={args.account}"] if args.account else []
    flags += [f"--qos={args.qos}"] if args.qos else []
    flags += [f"--constraint={args.constraint}"] if args.constraint else []
    flags += [f"--time={args.time}", f"--cpus-per-task={args.cpus_per_job}"]
    flags += [f"--gpus-per-node={args.gpus_per_job}"] if args.gpus_per_job else []
    flags += [f"--mem={args.mem}"] if args.mem else []
    return flags


def check_slurm(args) -> None:
    """sbatch --test-only with the job settings: Slurm's own refusal (unknown partition, account, too many GPUs)
    becomes one line, before anything is submitted."""
    import shutil

    if not shutil.which("sbatch"):
        raise ValueError("--launcher slurm: sbatch not found on PATH (is this a Slurm login node?)")
    p = subprocess.run(["sbatch", "--test-only", *slurm_flags(args), "--wrap", "true"], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        lines = [line.strip() for line in (p.stderr + p.stdout).splitlines() if line.strip()]
        raise ValueError(f"Slurm refused the job settings ({' '.join(slurm_flags(args))}): "
                         f"{lines[0] if lines else f'sbatch exit code {p.returncode}'}")


def squeue_states(reasons: bool = False) -> dict[str, str]:
    """Job id (arrays: ID_INDEX) -> Slurm state (with reasons: "STATE REASON"), for every job squeue still shows."""
    p = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T %r" if reasons else "%i %T"], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"squeue failed: {p.stderr.strip()}")
    return dict(line.split(None, 1) for line in p.stdout.splitlines() if line.strip())


def run_slurm(jobs: list[Job], args, out: Path) -> dict[str, str]:
    """Submit every unfinished job not already queued; intermediate jobs as one array, each intermediate's targets
    and retrieval as an array depending on it (afterok). Returns job name -> Slurm job id of every live job."""
    import submitit

    record_path = out / "submitted.json"
    submitted = json.loads(record_path.read_text()) if record_path.is_file() else {}
    states = squeue_states(reasons=True)
    live = {n: i for n, i in submitted.items() if i in states}
    for name, jid in list(live.items()):  # queued by an earlier driver behind a job that failed or was cancelled
        if "DependencyNeverSatisfied" in states[jid]:
            subprocess.run(["scancel", jid], capture_output=True)
            del live[name]
    todo = [j for j in jobs if not job_done(j) and j.name not in live]
    ex = submitit.SlurmExecutor(folder=out / "slurm" / "%j", python=sys.executable)
    base = dict(partition=args.partition, account=args.account, qos=args.qos, constraint=args.constraint,
                time=_minutes(args.time), cpus_per_task=args.cpus_per_job, gpus_per_node=args.gpus_per_job or None,
                mem=args.mem, job_name=f"study-{Path(out).name}", signal_delay_s=120,
                setup=[f"export PYTHONPATH={shlex.quote(str(ROOT))}:${{PYTHONPATH:-}}", f"cd {shlex.quote(str(ROOT))}"],
                additional_parameters={"kill-on-invalid-dep": "yes"})
    base = {k: v for k, v in base.items() if v is not None}
    try:
        names = {j.name for j in todo}
        # level 0: jobs with no dependency submitted now (intermediate jobs, baselines); level 1: their dependents
        for level in ([j for j in todo if not names & set(j.deps)], [j for j in todo if names & set(j.deps)]):
            batches: dict[tuple, list[Job]] = {}
            for j in level:
                batches.setdefault(tuple(sorted(live[d] for d in j.deps if d in live)), []).append(j)
            for dep_ids, batch in batches.items():  # one job array per set of dependencies
                ex.update_parameters(**base, dependency=("afterok:" + ":".join(dep_ids)) if dep_ids else None)
                with ex.batch():
                    handles = [ex.submit(SlurmJob(), job_dict(j, args.gpus_per_job)) for j in batch]
                for j, h in zip(batch, handles):
                    live[j.name] = h.job_id
                    print(f"  submitted {j.name}: Slurm job {h.job_id}" + (f" (after {', '.join(dep_ids)})" if dep_ids else ""))
    except Exception as e:  # sbatch refused a submission (limits, QOS): keep what was submitted, one line
        raise RuntimeError(f"sbatch failed after {len(live)} live job(s): {' '.join(str(e).split())[:500]}") from None
    finally:
        submitted.update(live)
        atomic_write_text(record_path, json.dumps(submitted, indent=1, sort_keys=True) + "\n")
    return live


def _minutes(text) -> int:
    """Slurm --time: minutes, or [D-]HH:MM[:SS]."""
    text = str(text)
    if text.isdigit():
        return int(text)
    days, _, rest = text.rpartition("-")
    parts = [int(x) for x in rest.split(":")]
    h, m = parts[0], parts[1] if len(parts) > 1 else 0
    return (int(days) if days else 0) * 1440 + h * 60 + m + (1 if len(parts) > 2 and parts[2] else 0)


def wait_slurm(jobs: list[Job], live: dict[str, str], poll: float) -> list[str]:
    """Poll run folders and squeue until every job is done or no unfinished job is left in the queue."""
    last = None
    while True:
        states = squeue_states()
        pending = [j for j in jobs if not job_done(j)]
        alive = [j for j in pending if live.get(j.name) in states]
        line = f"  {len(jobs) - len(pending)} of {len(jobs)} done, {len(alive)} queued or running"
        if line != last:
            print(line, flush=True)
            last = line
        if not alive:
            return [j.name for j in pending]
        time.sleep(poll)


# --- status and collect --------------------------------------------------------------------------------
def job_status(job: Job, live: dict[str, str], states: dict[str, str]) -> tuple[str, str]:
    """(done | running | queued | failed | interrupted | pending, detail)."""
    if job_done(job):
        return "done", ""
    jid = live.get(job.name)
    if jid in states:
        return ("running" if states[jid] in ("RUNNING", "COMPLETING") else "queued"), f"Slurm {jid} {states[jid]}"
    holder = held_by(job.run_dir)
    if holder:  # a train.py still writes the folder (this driver's, another's, or one started by hand)
        return "running", holder
    attempts = read_attempts(job.run_dir)
    if attempts and attempts[-1]["event"] == "end" and attempts[-1]["rc"] != 0:
        return "failed", last_error_line(job.run_dir)
    if attempts:
        return "interrupted", "rerun `study.py run` to resume it"
    return "pending", ""


def collect(study: Study, jobs: list[Job], out: Path, correlate_args: list[str]) -> int:
    """One results CSV from every finished job's results.csv, then correlate.py on it with the published ones."""
    import pandas as pd

    from data.results import COLUMNS, append_results, read_results

    files = [Path(j.run_dir) / RUN_RESULTS for j in jobs if j.kind != "intermediate" and job_done(j)]
    missing = [j.name for j in jobs if j.kind != "intermediate" and not job_done(j)]
    if not files:
        print(f"collect: no finished job has results yet ({len(missing)} to run)", file=sys.stderr)
        return 1
    try:
        df = read_results(files)
    except (ValueError, OSError) as e:  # DataError is a ValueError naming the file and line
        print(f"collect: error: {e}", file=sys.stderr)
        return 1
    rows = [{c: (r[c] if pd.notna(r[c]) else "") for c in COLUMNS} for r in df.to_dict("records")]
    csv_path = out / "results.csv"
    tmp = out / ".results.new.csv"
    tmp.unlink(missing_ok=True)
    append_results(tmp, rows)
    os.replace(tmp, csv_path)
    print(f"collect: {len(rows)} rows from {len(files)} runs -> {csv_path}")
    if missing:
        print(f"collect: {len(missing)} job(s) not done, left out: {', '.join(missing)}")
    cmd = [sys.executable, "correlate.py", str(csv_path), "--with-published", "--out", str(out / "report"),
           *correlate_args]
    print("collect: " + shlex.join(cmd), flush=True)
    rc = subprocess.run(cmd, cwd=ROOT).returncode
    if rc != 0:
        print(f"collect: error: correlate.py failed (exit code {rc}); {csv_path} is written", file=sys.stderr)
        return rc
    print(f"collect: report in {out / 'report'}")
    return 1 if missing else 0


# --- command line --------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Plan, run, watch and collect a study (see the docstring).")
    p.add_argument("command", choices=("plan", "run", "status", "collect"))
    p.add_argument("config", help="study config, e.g. configs/study/phang2020.yaml")
    p.add_argument("--out-dir", default=None, help="study folder (default: the config's out_dir)")
    p.add_argument("--throughput", type=float, default=None, help="plan: training tokens/s per GPU to assume")
    p.add_argument("--launcher", choices=("slurm", "local"), default="slurm")
    p.add_argument("--partition", default=None)
    p.add_argument("--account", default=None)
    p.add_argument("--qos", default=None)
    p.add_argument("--constraint", default=None)
    p.add_argument("--time", default=None, help="Slurm time limit per job: minutes or HH:MM:SS (default 1440)")
    p.add_argument("--gpus-per-job", type=int, default=None, help="GPUs per job (default 1; >1 runs torchrun)")
    p.add_argument("--cpus-per-job", type=int, default=None, help="CPUs per job (default 8)")
    p.add_argument("--mem", default=None, help="Slurm memory per job, e.g. 64G")
    p.add_argument("--jobs", type=int, default=None,
                   help="local: jobs at a time (default: visible GPUs / gpus-per-job, 1 on CPU)")
    p.add_argument("--no-wait", action="store_true", help="slurm: return once submitted")
    p.add_argument("--poll", type=float, default=30.0, help="slurm: seconds between checks while waiting")
    p.add_argument("--correlate-args", default="", help="collect: extra correlate.py arguments, e.g. '--no-plots'")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        study = load_study(args.config)
        # the config's out_dir is relative to the repository (as the recipes' paths are), --out-dir to the shell
        out = Path(args.out_dir).resolve() if args.out_dir else ROOT / study.out_dir
        for key, default in (("partition", None), ("account", None), ("qos", None), ("constraint", None),
                             ("time", 1440), ("gpus_per_job", 1), ("cpus_per_job", 8), ("mem", None)):
            if getattr(args, key) is None:
                setattr(args, key, study.slurm.get(key, default))
        if args.gpus_per_job < 0 or args.cpus_per_job < 1:
            raise ValueError(f"--gpus-per-job {args.gpus_per_job} must be >= 0 and --cpus-per-job {args.cpus_per_job} >= 1")
        jobs = build_jobs(study, str(out))
        if args.command == "run" and args.launcher == "slurm":
            check_slurm(args)
    except ValueError as e:
        sys.exit(f"study.py: error: {e}")

    if args.command == "plan":
        speed, per_kind, source = read_throughput(args.throughput)
        total = add_estimates(jobs, speed, per_kind)
        rows = [("job", "kind", "after", "examples", "epochs", "mean tok", "GPU-h")]
        rows += [(j.name, j.kind, ",".join(j.deps) or "-", f"{j.examples:,}", f"{j.epochs:g}", str(j.mean_tokens),
                  f"{j.gpu_hours:.2f}") for j in jobs]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        counts = {k: sum(j.kind == k for j in jobs) for k in KINDS}
        print(f"total: {len(jobs)} jobs ({', '.join(f'{n} {k}' for k, n in counts.items())}), "
              f"{total:,.1f} GPU-hours")
        print(f"throughput: {source}")
        print("not counted: dev evaluations during training, zero-shot evaluation, queueing, model loading")
        out.mkdir(parents=True, exist_ok=True)
        plan = {"study": study.path, "out_dir": str(out), "throughput_tokens_per_s": speed,
                "throughput_source": source, "total_gpu_hours": total, "jobs": [asdict(j) for j in jobs]}
        atomic_write_text(out / "plan.json", json.dumps(plan, indent=1) + "\n")
        print(f"plan: {out / 'plan.json'}")
    elif args.command == "run":
        try:  # one driver per study; held until this process ends (the kernel drops it, however it ends)
            lock = hold_lock(out, STUDY_LOCK, what="study.py run")  # referenced until main returns
        except (ValueError, OSError) as e:
            sys.exit(f"study.py: error: {e}")
        if args.launcher == "local":
            n_gpus = _visible_gpus()
            gpus = args.gpus_per_job if n_gpus else 0
            workers = args.jobs or (max(1, n_gpus // gpus) if gpus else 1)
            failed = run_local(jobs, workers, gpus)
        else:
            try:
                live = run_slurm(jobs, args, out)
            except RuntimeError as e:
                sys.exit(f"study.py: error: {e}")
            if args.no_wait:
                print(f"submitted; watch with  python study.py status {args.config}")
                return
            failed = wait_slurm(jobs, live, args.poll)
        if failed:
            sys.exit(f"study.py: {len(failed)} job(s) not done: {', '.join(failed)} "
                     f"(python study.py status {args.config}; rerun to resume)")
        print(f"study done: {len(jobs)} jobs; next: python study.py collect {args.config}")
    elif args.command == "status":
        record = out / "submitted.json"
        live = json.loads(record.read_text()) if record.is_file() else {}
        try:
            states = squeue_states() if live else {}
        except (OSError, RuntimeError):
            states = {}
        counts: dict[str, int] = {}
        for j in jobs:
            state, detail = job_status(j, live, states)
            counts[state] = counts.get(state, 0) + 1
            print(f"{state:12} {j.name}" + (f"  {detail}" if detail else ""))
        print("total: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    else:
        sys.exit(collect(study, jobs, out, shlex.split(args.correlate_args)))


def _visible_gpus() -> int:
    import torch

    return torch.cuda.device_count()


if __name__ == "__main__":
    main()
