"""The language registry: every declared kind has a handler, the shipped schema and
reference are generated from it, and validate refuses what an agent type cannot do."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sipscen.language import registry
from sipscen.language.control import CallControl
from sipscen.language.reference import render as render_reference
from sipscen.language.schema_gen import generate
from sipscen.scenario import load_scenario, validate_file
from sipscen.engine.run import scripted_wait

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_an_agent_type_declares_is_registered_with_a_handler():
    steps, events = registry.steps(), registry.events()
    for agent_type in registry.agent_types().values():
        for kind in agent_type.steps:
            assert kind in steps and callable(steps[kind].run), (agent_type.name, kind)
        for event in agent_type.events:
            assert event in events and callable(events[event].run), (agent_type.name, event)
        cls = agent_type.implementation_class()
        assert issubclass(cls, CallControl) and cls.type_name == agent_type.name
    for family in registry.expectations().values():
        assert callable(family.function())


def test_every_registered_kind_is_documented_with_an_example():
    for record in [*registry.steps().values(), *registry.events().values(),
                   *registry.expectations().values()]:
        assert record.doc and record.example.startswith("- "), record.name
        assert f"`{record.name}`" in render_reference()


def test_shipped_schema_is_the_generated_one():
    shipped = json.loads((ROOT / "schemas" / "scenario.schema.json").read_text("utf-8"))
    assert shipped == generate(), \
        "schemas/scenario.schema.json drifted: python -m sipscen.language.schema_gen --write"


def test_shipped_reference_is_the_generated_one():
    assert (ROOT / "docs" / "REFERENCE.md").read_text("utf-8") == render_reference(), \
        "docs/REFERENCE.md drifted: python -m sipscen.language.reference --write"


def test_schema_and_doc_commands_print_the_generated_texts(sipscen):
    code, out, _ = sipscen("schema")
    assert code == 0 and json.loads(out) == generate()
    code, out, _ = sipscen("doc")
    assert code == 0 and out == render_reference()


def test_schema_has_one_step_entry_per_registered_kind():
    step = generate()["$defs"]["step"]["properties"]
    assert sorted(step) == sorted(registry.steps())
    assert "stop_record" in step and "hold" in step


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, expected", [
    ("name: x\nagents:\n  b: {type: pjsua}\n  s:\n    type: sipp\n    target: b\n"
     "    steps:\n      - call: {to: b}\n",
     "8:9: agents.s.steps[0].call: a sipp agent cannot 'call' (its steps: signal, sleep, wait)"),
    ("name: x\nagents:\n  b: {type: pjsua}\n  s:\n    type: sipp\n    target: b\n"
     "    steps:\n      - dtmf: {digits: '1'}\n",
     "8:9: agents.s.steps[0].dtmf: a sipp agent cannot 'dtmf' (its steps: signal, sleep, wait)"),
    ("name: x\nagents:\n  b: {type: pjsua}\n  s:\n    type: sipp\n    target: b\n"
     "    steps:\n      - wait: {event: answered}\n",
     "8:23: agents.s.steps[0].wait.event: a sipp agent cannot wait for event 'answered' "
     "(its events: signal)"),
    ("name: x\nagents:\n  b: {type: pjsua}\nexpect:\n  - load: {agent: b}\n",
     "5:19: expect[0].load.agent: 'load' reads the load an agent reports; 'b' is a pjsua "
     "agent, which reports none"),
])
def test_validate_refuses_what_the_agent_type_cannot_do(tmp_path, sipscen, text, expected):
    path = _write(tmp_path, text)
    assert [str(e) for e in validate_file(path, environ={})] == [f"{path}:{expected}"]
    code, _, err = sipscen("validate", path)
    assert code == 2 and f"{path}:{expected}" in err and "Traceback" not in err


@pytest.mark.parametrize("steps, expected", [
    ("      - register: {}\n",
     "6:9: agents.a.steps[0].register: agent 'a' has no account.registrar to register at"),
    ("      - hangup: {call: nope}\n",
     "6:24: agents.a.steps[0].hangup.call: no earlier call step or incoming wait of this "
     "agent has id 'nope' (ids: none)"),
    ("      - call: {to: a, id: x}\n      - transfer: {call: x, replaces: y}\n",
     "7:39: agents.a.steps[1].transfer.replaces: no earlier call step or incoming wait of "
     "this agent has id 'y' (ids: x)"),
    ("      - call: {to: a, id: x}\n      - call: {to: a, id: x}\n",
     "7:27: agents.a.steps[1].call.id: this agent already names a call 'x'"),
    ("      - wait: {event: disconnected, digits: '1'}\n",
     "6:37: agents.a.steps[0].wait.digits: 'digits' only applies to event: dtmf"),
    ("      - call: {to: a, headers: {'X Bad': v}}\n",
     "6:33: agents.a.steps[0].call.headers['X Bad']: a header name is a SIP token "
     "(letters, digits, -), got 'X Bad'"),
])
def test_new_steps_are_checked_at_their_line(tmp_path, steps, expected):
    path = _write(tmp_path, "name: x\nagents:\n  a:\n    type: pjsua\n    steps:\n" + steps)
    assert [str(e) for e in validate_file(path, environ={})] == [f"{path}:{expected}"]


def test_stop_record_hold_and_unhold_pass_validation(tmp_path):
    path = _write(tmp_path, "name: x\nagents:\n  a:\n    type: pjsua\n    steps:\n"
                            "      - record: {file: a.wav}\n      - stop_record: {}\n"
                            "      - hold: {mode: inactive}\n      - unhold:\n")
    assert validate_file(path, environ={}) == []


def test_scripted_wait_uses_the_agents_real_defaults(tmp_path):
    path = _write(tmp_path, "name: x\nagents:\n  a:\n    type: pjsua\n    steps:\n"
                            "      - dtmf: {digits: '1234'}\n"        # 4 x 160ms + 3 x 100ms
                            "      - play: {tone: {frequencies: [440]}}\n"   # 500ms
                            "      - record: {file: r.wav, duration: 1s}\n"
                            "      - sleep: 250ms\n")
    assert scripted_wait(load_scenario(path, environ={})) == pytest.approx(0.94 + 0.5 + 1 + 0.25)


def test_facts_read_as_each_agent_types_typed_record():
    from sipscen.agents.records import CallRecord, PjsuaFacts, SippFacts, record_of
    pjsua = record_of({"type": "pjsua", "uri": "sip:a@127.0.0.1:5",
                       "calls": [{"direction": "incoming", "call_id": "x", "status_code": 486,
                                  "unknown_key": 1}], "dtmf_received": [{"digit": "1"}]})
    assert isinstance(pjsua, PjsuaFacts) and pjsua.calls == [
        CallRecord(direction="incoming", call_id="x", status_code=486)]
    assert pjsua.dtmf_received == [{"digit": "1"}]
    sipp = record_of({"type": "sipp", "side": "uas", "stats": {"attempted": 3}})
    assert isinstance(sipp, SippFacts) and sipp.side == "uas" and sipp.calls == []
    assert record_of("not facts") is None
    for agent_type in registry.agent_types().values():      # round trip of an empty record
        cls = agent_type.facts_record_class()
        assert cls().to_dict()["type"] == agent_type.name
        assert record_of(cls().to_dict()) == cls()


def test_every_agent_types_call_control_methods_take_the_interfaces_arguments():
    """An agent that overrides a CallControl operation accepts every argument the
    interface (and so the timeline) passes."""
    import inspect
    for agent_type in registry.agent_types().values():
        cls = agent_type.implementation_class()
        for name, base in vars(CallControl).items():
            if name.startswith("_") or not callable(base) or name not in vars(cls):
                continue
            wanted = list(inspect.signature(base).parameters)
            got = inspect.signature(getattr(cls, name)).parameters
            missing = [p for p in wanted if p not in got and not any(
                q.kind == q.VAR_KEYWORD for q in got.values())]
            assert not missing, f"{cls.__name__}.{name} lacks {missing}"


def test_a_reimported_module_replaces_its_own_records_but_a_second_owner_is_refused():
    import importlib
    import sys

    from sipscen.language import registry
    registry.load()
    before = registry.EXPECTATIONS["call"]
    module = sys.modules.pop("sipscen.checks.call")
    try:
        importlib.import_module("sipscen.checks.call")       # what pytester's snapshot leads to
        assert registry.EXPECTATIONS["call"] is not before
        assert registry.EXPECTATIONS["call"].evaluate == before.evaluate
        import dataclasses
        foreign = dataclasses.replace(before, evaluate="some.plugin:check_call")
        with pytest.raises(ValueError, match="'call' is registered twice"):
            registry.register_expectation(foreign)
    finally:
        sys.modules["sipscen.checks.call"] = module
        registry.EXPECTATIONS["call"] = before
