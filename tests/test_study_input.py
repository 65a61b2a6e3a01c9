"""study.py on bad input: every refusal is one line naming the study file (or the option) and what was expected,
before anything is planned, run or written (issue 22 items 11, 14, 15). In-process calls of study.main.

Run: python -m pytest -q tests/test_study_input.py
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import study

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs/study/smoke.yaml"


def smoke_variant(tmp_path, text: str | None = None, **change) -> Path:
    """The smoke study with `change` applied (or the raw `text`), written under tmp_path."""
    path = tmp_path / "variant.yaml"
    if text is None:
        raw = yaml.safe_load(SMOKE.read_text(encoding="utf-8"))
        raw.update(change)
        text = yaml.safe_dump(raw)
    path.write_text(text, encoding="utf-8")
    return path


def refusal(*argv) -> str:
    """study.py's one-line error for argv (SystemExit with a message), or fail."""
    with pytest.raises(SystemExit) as e:
        study.main([str(a) for a in argv])
    message = e.value.code
    assert isinstance(message, str) and message.startswith("study.py: error: ") and "\n" not in message, message
    return message


# ---- item 11: variant and arm names are plain names -------------------------------------------------------------
@pytest.mark.parametrize("name", ["", "../escaped", "mnli/", "./none", ".", "a b", 5])
def test_variant_names_that_are_not_plain_names_are_refused_before_anything_is_planned(tmp_path, name):
    path = smoke_variant(tmp_path, variants={name: {"recipe": "mnli", "overrides": ["intermediate.lr=1e-3"]}})
    out = tmp_path / "out"
    message = refusal("plan", path, "--out-dir", out)
    assert f"{path}: variant name {name!r} is not a plain name" in message
    assert not out.exists() and not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("field, value, message", [
    ("intermediate", ["../xstilts/mnli"], "intermediate task '../xstilts/mnli' is not a plain name"),
    ("variants", {"v": {"recipe": "../xstilts/mnli"}}, "variant 'v': recipe '../xstilts/mnli' is not a plain name"),
])
def test_arm_and_recipe_names_are_plain_names(tmp_path, field, value, message):
    assert message in refusal("plan", smoke_variant(tmp_path, **{field: value}), "--out-dir", tmp_path / "out")


@pytest.mark.slow
def test_plain_variant_names_still_plan(tmp_path, capsys):
    path = smoke_variant(tmp_path, variants={"mnli_lr-2": {"recipe": "mnli", "overrides": ["intermediate.lr=1e-3"]}})
    study.main(["plan", str(path), "--out-dir", str(tmp_path / "out")])
    assert "mnli_lr-2/none/s0" in capsys.readouterr().out


# ---- item 15: study settings ------------------------------------------------------------------------------------
def test_a_key_given_twice_in_a_study_config_is_refused_with_its_line(tmp_path):
    text = SMOKE.read_text(encoding="utf-8") + "seeds: [1]\n"
    message = refusal("plan", smoke_variant(tmp_path, text), "--out-dir", tmp_path / "out")
    assert "variant.yaml: not valid YAML" in message and "found the key 'seeds' twice" in message


@pytest.mark.parametrize("change, message", [
    ({"intermediate": ["mnli", "mnli"]}, "intermediate task 'mnli' is listed twice"),
    ({"out_dir": ["a", "b"]}, "out_dir must be a path (a string), got ['a', 'b']"),
    ({"model": 5}, "model must be a path (a string) or a list of them, got 5"),
    ({"retrieval": {"batch_size": 0}}, "retrieval.batch_size must be a whole number >= 1, got 0"),
    ({"retrieval": {"max_len": "64"}}, "retrieval.max_len must be a whole number >= 1, got '64'"),
    ({"slurm": {"gpus_per_job": "2"}}, "slurm.gpus_per_job must be a whole number >= 0, got '2'"),
    ({"slurm": {"time": "-5"}}, "slurm.time: --time '-5' is not a Slurm time"),
])
def test_bad_study_settings_are_one_line_errors_naming_the_file(tmp_path, change, message):
    path = smoke_variant(tmp_path, **change)
    got = refusal("plan", path, "--out-dir", tmp_path / "out")
    assert f"{path}: " in got and message in got, got
    assert not (tmp_path / "out").exists()


def test_a_study_config_that_is_not_utf8_or_is_a_folder_is_named(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(SMOKE.read_bytes().replace(b"seeds: [0]", b"seeds: [0]  # caf\xe9"))
    assert f"{bad}: line " in refusal("plan", bad) and "byte 0xe9 is not UTF-8" in refusal("plan", bad)
    assert f"{tmp_path}: is a folder; expected a YAML study config" in refusal("plan", tmp_path)


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf"])
def test_plan_throughput_must_be_finite_and_positive(tmp_path, value):
    assert f"--throughput {float(value)}: tokens/s per GPU must be finite and > 0" in refusal(
        "plan", SMOKE, "--out-dir", tmp_path / "out", "--throughput", value)


@pytest.mark.parametrize("text, minutes", [
    ("30", 30), (45, 45), ("30:00", 30), ("01:30", 2), ("0:59", 1), ("1:30:00", 90), ("2:00:01", 121),
    ("1-12", 2160), ("1-0:30", 1470), ("0-0:0:1", 1)])
def test_slurm_time_is_read_with_slurms_own_grammar(text, minutes):
    assert study.slurm_minutes(text) == minutes


@pytest.mark.parametrize("text", ["-5", "0", "1:2:3:4", "1-", "2h", "UNLIMITED", "1.5"])
def test_a_time_slurm_would_not_read_as_a_limit_is_refused(tmp_path, text):
    assert f"--time {text!r}" in refusal("plan", SMOKE, "--out-dir", tmp_path / "out", "--time", text)


def test_collect_names_the_report_folder_correlate_writes_to():
    out = Path("/tmp/study")
    assert study.report_dir(out, []) == out / "report"
    assert study.report_dir(out, ["--no-plots", "--out", "X"]) == ROOT / "X"
    assert study.report_dir(out, ["--out=/abs/Y"]) == Path("/abs/Y")


# ---- item 14: raw tracebacks become one line --------------------------------------------------------------------
def test_negative_jobs_and_unbalanced_correlate_quotes_are_one_line_errors(tmp_path):
    assert "--jobs -3: give at least 1" in refusal("run", SMOKE, "--launcher", "local", "--jobs", "-3",
                                                     "--out-dir", tmp_path / "o")
    assert "--correlate-args '--out \"x': No closing quotation" in refusal(
        "collect", SMOKE, "--out-dir", tmp_path / "o", "--correlate-args", '--out "x')


def test_an_unwritable_study_folder_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert f"study folder {blocker / 'sub'}: cannot write there" in refusal("plan", SMOKE, "--out-dir",
                                                                            blocker / "sub")


@pytest.mark.slow
def test_garbage_submitted_json_is_one_line_error(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "submitted.json").write_text("{not json")
    assert f"{out / 'submitted.json'}: not a record of submitted jobs" in refusal("status", SMOKE, "--out-dir", out)
    (out / "submitted.json").write_text("[1, 2]")
    assert "expected a mapping job name -> Slurm job id" in refusal("status", SMOKE, "--out-dir", out)


@pytest.mark.slow
def test_a_cut_last_attempt_line_is_left_out_and_a_garbled_one_is_named(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    start = json.dumps({"event": "start", "time": 1.0, "job": "local"})
    (run / "study_attempts.jsonl").write_text(start + "\n" + '{"event": "end", "ti')
    assert study.read_attempts(run) == [json.loads(start)]
    (run / "study_attempts.jsonl").write_text("garbage\n" + start + "\n")
    with pytest.raises(ValueError, match=r"study_attempts.jsonl: line 1: not a study attempt record"):
        study.read_attempts(run)
    out = tmp_path / "o"
    job = study.build_jobs(study.load_study(SMOKE), str(out))[0]
    Path(job.run_dir).mkdir(parents=True)
    (Path(job.run_dir) / "study_attempts.jsonl").write_text("garbage\n" + start + "\n")
    study.main(["status", str(SMOKE), "--out-dir", str(out)])
    assert f"unreadable   {job.name}  {job.run_dir}/study_attempts.jsonl: line 1" in capsys.readouterr().out


@pytest.mark.parametrize("content", ["{", '{"train_tokens_per_s": "fast", "device": "x", "date": "d"}',
                                     '{"train_tokens_per_s": 0, "device": "x", "date": "d"}', "[]"])
def test_a_bad_throughput_record_is_one_line_error_naming_it(tmp_path, monkeypatch, content):
    record = tmp_path / "gpu_throughput.json"
    record.write_text(content)
    monkeypatch.setattr(study, "THROUGHPUT_FILE", record)
    assert f"{record}: " in refusal("plan", SMOKE, "--out-dir", tmp_path / "o")
    assert not (tmp_path / "o").exists()
