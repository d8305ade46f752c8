"""Each agent's steps in the captured order and timing.

Before each act of a party: a ``wait`` for the last thing it saw since its
previous step (then a ``sleep`` of the captured gap), or, when another party
did something the act follows and this party cannot see, a ``wait`` for that
party's ``signal`` (which that party posts right after it); else a ``sleep``
from its previous step. Received DTMF, MESSAGEs, holds and transfers are waited
for as they arrive (they are checkpoints of the flow); at its end, each party
waits for the last thing it saw.

The waits follow the language's rules (``timeline.py`` of the interpreter): a
wait consumes the oldest unconsumed event of its kind on the current call, so a
wait for the n-th such event comes after waits for the ones before it; the
current call is the one the last ``call`` step placed or the last wait saw,
none after it disconnected or after a transfer request. A call is named (``id``)
only where a step or wait must aim at a call that is not the current one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sipscen.scaffold.acts import Act, Model, Obs
from sipscen.scaffold.steps import MIN_SLEEP, Step, act_step, duration, timeout_for, \
    wait_step

FOREIGN_WINDOW = 1.0        # s: another party's event this close before an act orders it
CHECKPOINTS = frozenset({"dtmf", "message", "held", "resumed", "transfer_requested",
                         "registration_failed"})
NEEDS_ANSWER = frozenset({"hold", "unhold", "reinvite", "info", "transfer", "dtmf"})
STEP_KINDS_WITH_CALL = frozenset({"hangup", "cancel", "hold", "unhold", "reinvite", "update",
                                  "info", "transfer"})


@dataclass
class Sync:
    party: str          # who posts the signal
    time: float
    ref: Any            # the Act or Obs after which it posts
    name: str


@dataclass
class _State:
    anchor: float
    current: str | None = None
    cursor: dict[tuple[str, str | None], int] = field(default_factory=dict)
    introduced: set[str] = field(default_factory=set)   # named incoming calls waited for
    floor: int = 0              # unnamed waits see no event before this one (obs index)
    sent_digits: Act | None = None      # the dtmf act this party did last
    confirmed: set[str] = field(default_factory=set)    # calls whose answer a wait saw
    digits: str = ""
    steps: list[Step] = field(default_factory=list)


def act_length(act: Act) -> float:
    if act.kind == "dtmf":
        p = act.params
        n = len(p["digits"])
        return (n * p["duration_ms"] + (n - 1) * p["gap_ms"]) / 1000
    return 0.0


def start_time(model: Model) -> float:
    times = [a.time for a in model.acts if not a.auto] or [o.time for o in model.obs] or [0.0]
    return min(times)


class Builder:
    def __init__(self, model: Model, steppers: set[str],
                 sipp_spans: dict[str, tuple[float, float]] | None = None):
        self.model = model
        self.steppers = steppers            # agents whose acts are steps (not SIPp)
        spans = sipp_spans or {}
        self.sipp_ends = {k: v[1] for k, v in spans.items()}   # SIPp agent -> last message
        self.sipp_signals: dict[str, str] = {}   # SIPp agent -> the signal it posts when done
        self.t0 = min([start_time(model)] + [v[0] for v in spans.values()])
        self.syncs: dict[str, list[Sync]] = {}
        self.names: dict[str, dict[str, str]] = {}      # party -> call id -> name
        self.need_names: dict[str, set[str]] = {}

    # -- public ------------------------------------------------------------------------
    def build(self) -> dict[str, list[Step]]:
        parties = sorted(self.steppers)
        notes = len(self.model.notes)
        for name in parties:                    # pass 1: who must signal whom
            self._run(name, collect=True)
        del self.model.notes[notes:]            # notes come from the final pass only
        out = {}
        for name in parties:                    # pass 2: steps; names where needed
            self.need_names[name] = set()
            notes = len(self.model.notes)
            out[name] = self._run(name, collect=False)
            if self.need_names[name] - set(self.names.get(name, {})):
                del self.model.notes[notes:]
                self._name_calls(name)
                out[name] = self._run(name, collect=False)
        return out

    # -- one party ---------------------------------------------------------------------
    def _items(self, party: str) -> list[tuple[float, int, Any]]:
        acts = [a for a in self.model.acts if a.party == party and not a.auto]
        obs = [o for o in self.model.obs if o.party == party and o.event in CHECKPOINTS
               and o.time >= self.t0]
        items = [(a.time, 1, a) for a in acts] + [(o.time, 0, o) for o in obs]
        items += [(s.time, 2 if isinstance(s.ref, Act) else 0, s)
                  for s in self.syncs.get(party, [])]
        items.sort(key=lambda x: (x[0], x[1]))
        return items

    def _run(self, party: str, collect: bool) -> list[Step]:
        st = _State(anchor=self.t0 - 0.001)     # what arrives with the first act counts
        obs = [o for o in self.model.obs if o.party == party]
        for _, _, item in self._items(party):
            if isinstance(item, Act):
                self._act(party, item, st, obs, collect)
            elif isinstance(item, Obs):
                if item.time > st.anchor or item.event == "dtmf":
                    self._wait(party, item, st, obs)
            else:   # a Sync this party posts
                if isinstance(item.ref, Obs) and item.ref.time > st.anchor:
                    self._wait(party, item.ref, st, obs)
                if not any(s.kind == "signal" and s.params == item.name for s in st.steps):
                    st.steps.append(Step("signal", item.name, "for the parties that wait "
                                                              "for it"))
        self._tail(party, st, obs)
        return st.steps

    def _prerequisites(self, party: str, act: Act, st: _State, obs: list[Obs]) -> None:
        """An act on an answered call (and a transfer's consult call) comes after a wait
        that saw that call answered: the capture's order is not the next run's."""
        if act.kind not in NEEDS_ANSWER:
            return
        for call in (act.call, act.params.get("replaces_call_id")):
            if not call or call in st.confirmed:
                continue
            seen = next((o for o in obs if o.call == call and o.time <= act.time and
                         o.event in ("answered", "media_active")), None)
            if seen is None:
                continue
            named = call in self.names.get(party, {})
            key = (seen.event, call if named else None)
            if obs.index(seen) > st.cursor.get(key, -1) and (named or call == st.current):
                self._wait(party, seen, st, obs)

    def _act(self, party: str, act: Act, st: _State, obs: list[Obs], collect: bool) -> None:
        self._prerequisites(party, act, st, obs)
        own = [o for o in obs if st.anchor < o.time <= act.time + 1e-6 and
               (o.time < act.time or o.cause != party)]
        same_call = [o for o in own if o.call == act.call]
        last_own = same_call[-1] if same_call and act.call else own[-1] if own else None
        floor = own[-1].time if own else st.anchor
        other = self._counterpart(act)
        foreign = self._foreign(party, floor, act.time, other)
        heard = self._heard(st.sent_digits)
        if heard is not None and heard.time <= act.time + 0.5 and (
                foreign is None or foreign.time <= heard.time):
            foreign = heard         # digits sent: go on once the receiver has them
        st.sent_digits = act if act.kind == "dtmf" else None
        end = self.sipp_ends.get(other or "")
        if foreign is None and end is not None and floor < end <= act.time and \
                act.time - end <= FOREIGN_WINDOW:
            name = self.sipp_signals.setdefault(other, f"{other}-done")
            st.steps.append(Step("wait", {"signal": name, "agent": other,
                                          "timeout": timeout_for(act.time - st.anchor)},
                                 f"{other} (SIPp) sent all its messages first in the capture"))
            self._sleep(st, act.time - end)
            st.anchor = act.time
        elif foreign is not None:
            sync = self._sync_for(foreign, collect)
            if sync is not None:
                why = f"once {sync.party} has the digits" if isinstance(foreign, Obs) and \
                    foreign.event == "dtmf" else f"{sync.party} did this first in the capture"
                st.steps.append(Step("wait", {"signal": sync.name, "agent": sync.party,
                                              "timeout": timeout_for(act.time - st.anchor)},
                                     why))
                self._sleep(st, act.time - foreign.time)
                st.anchor = act.time
            elif last_own is not None:
                self._wait(party, last_own, st, obs)
                self._sleep(st, act.time - last_own.time)
            else:
                self._sleep(st, act.time - st.anchor)
        elif last_own is not None:
            self._wait(party, last_own, st, obs)
            self._sleep(st, act.time - last_own.time)
        else:
            self._sleep(st, act.time - st.anchor)
        ref = self._call_ref(party, act.call, st) if act.kind in STEP_KINDS_WITH_CALL else {}
        step = act_step(self.model, act, ref, self.names.get(party, {}))
        if isinstance(step, list):
            st.steps += step
        elif step is not None:
            st.steps.append(step)
        if act.kind == "call":
            st.current = act.call
        if act.kind == "transfer" and act.params.get("replaces_call_id"):
            self.need_names.setdefault(party, set()).add(act.params["replaces_call_id"])
            if act.call:
                self.need_names[party].add(act.call)
        st.anchor = max(st.anchor, act.time + act_length(act))

    def _heard(self, sent: Act | None) -> Obs | None:
        """The receiver's observation of digits this party sent (a stepper agent's)."""
        if sent is None or sent.params.get("receiver") not in self.steppers:
            return None
        return next((o for o in self.model.obs if o.event == "dtmf" and
                     o.party == sent.params["receiver"] and o.cause == sent.party and
                     o.time >= sent.time), None)

    def _counterpart(self, act: Act) -> str | None:
        """The party an act is aimed at: the other end of its call, the receiver of its
        MESSAGE, request or digits."""
        if act.kind == "dtmf":
            return act.params.get("receiver")
        info = self.model.calls.get(act.call or "")
        if info is not None:
            other = info.callee if info.caller == act.party else info.caller
            ruri = act.params.get("ruri")
            if other is None and ruri is not None:     # the SUT answered: whom it was for
                other = next((p.name for p in self.model.parties.agents
                              if p.user == ruri.user), None)
            return other
        dst = act.params.get("dst")
        if dst:
            receiver = next((o.party for o in self.model.obs if o.call == act.call and
                             o.party != act.party and o.event in ("message", "incoming")), None)
            return receiver or (self.model.parties.of(dst).name
                                if self.model.parties.of(dst) is not None else None)
        return None

    def _obs_counterpart(self, o: Obs) -> str | None:
        info = self.model.calls.get(o.call or "")
        if info is None:
            return None
        other = info.callee if info.caller == o.party else info.caller
        if other is None:
            call = next((a for a in self.model.acts if a.kind == "call" and
                         a.call == o.call and a.party == o.party), None)
            other = self._counterpart(call) if call is not None else None
        return other

    def _foreign(self, party: str, after: float, before: float, other: str | None):
        """The last thing done or seen in (after, before] by another party that this
        party did not cause and cannot see itself, where either that party is the one the
        act is aimed at, or that thing was aimed at this party."""
        best = None
        for a in self.model.acts:
            if a.party == party or a.auto or a.party not in self.steppers or \
                    not after < a.time <= before or before - a.time > FOREIGN_WINDOW:
                continue
            if a.party == other or self._counterpart(a) == party:
                best = a if best is None or a.time > best.time else best
        for o in self.model.obs:
            # digits this party sent count once the receiver has them: its in-band detector
            # (or the network) lags behind the sender, and the capture shows them sent
            heard = o.event == "dtmf" and o.cause == party
            if o.party == party or (o.cause == party and not heard) or \
                    o.party not in self.steppers or \
                    not after < o.time <= before or before - o.time > FOREIGN_WINDOW or \
                    self._seen_here(party, o):
                continue
            if o.party == other or self._obs_counterpart(o) == party:
                best = o if best is None or o.time > best.time else best
        return best

    def _seen_here(self, party: str, o: Obs) -> bool:
        """Whether ``party`` saw the same message (a BYE both ends see, a relayed copy)."""
        return any(x.party == party and x.frames and x.frames == o.frames
                   for x in self.model.obs)

    def _sync_for(self, ref, collect: bool) -> Sync | None:
        party = ref.party
        for s in self.syncs.get(party, []):
            if s.ref is ref:
                return s
        if not collect:
            return None
        kind = ref.kind if isinstance(ref, Act) else ref.event
        base = f"{party}-{kind}".replace("_", "-")
        taken = {s.name for group in self.syncs.values() for s in group}
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        sync = Sync(party, ref.time + (act_length(ref) if isinstance(ref, Act) else 0), ref,
                    name)
        self.syncs.setdefault(party, []).append(sync)
        return sync

    def _wait(self, party: str, o: Obs, st: _State, obs: list[Obs]) -> None:
        """Wait for ``o`` (after waits for the older unconsumed events of its kind)."""
        named = self.names.get(party, {})
        call = o.call if o.event not in ("dtmf", "message", "request_answered", "registered",
                                          "unregistered", "registration_failed",
                                          "incoming") else None
        key = (o.event, call if call in named else None)
        index = obs.index(o)
        start = st.cursor.get(key, -1)
        if key[1] is None and o.event not in ("incoming", "dtmf"):
            start = max(start, st.floor - 1)
        if o.event == "dtmf":
            digits = "".join(x.data["digits"] for x in obs[start + 1:index + 1]
                             if x.event == "dtmf")
            st.steps.append(wait_step(o, {}, o.time - st.anchor, digits))
            st.cursor[key] = index
            st.anchor = max(st.anchor, o.time)
            return
        for x in obs[start + 1:index]:
            if x.event == o.event and (x.call == o.call or key[1] is None and
                                       st.current is None):
                ref = self._call_ref(party, x.call, st, waiting=True)
                st.steps.append(wait_step(x, ref, x.time - st.anchor,
                                          name=named.get(x.call or "")))
                self._after_wait(x, st, key, obs.index(x))
        if o.event == "incoming" and o.call in named:
            st.introduced.add(o.call)
        ref = self._call_ref(party, o.call, st, waiting=True) if call else {}
        st.steps.append(wait_step(o, ref, o.time - st.anchor, name=named.get(o.call or "")))
        st.cursor[key] = index
        self._after_wait(o, st, key, index)
        st.anchor = max(st.anchor, o.time)

    def _after_wait(self, o: Obs, st: _State, key, index: int) -> None:
        if o.event in ("answered", "media_active") and o.call:
            st.confirmed.add(o.call)
        if o.event == "incoming":
            st.current = o.call
        elif o.event == "transfer_requested":
            st.current = None
            if key[1] is None:
                st.floor = max(st.floor, index + 1)
        elif key[1] is None and o.event not in ("message", "request_answered", "registered",
                                                 "unregistered", "registration_failed",
                                                 "dtmf"):
            if o.event in ("disconnected",) and (st.current in (None, o.call)):
                st.current = None
                st.floor = max(st.floor, index + 1)
            elif st.current is None:
                st.current = o.call

    def _call_ref(self, party: str, call: str | None, st: _State, waiting: bool = False
                  ) -> dict[str, Any]:
        named = self.names.get(party, {})
        if call in named:
            self._introduce(party, call, st)
            return {"call": named[call]}
        if call is None or call == st.current or st.current is None:
            return {}
        self.need_names.setdefault(party, set()).add(call)
        return {}

    def _introduce(self, party: str, call: str, st: _State) -> None:
        """A named incoming call gets its name from an ``incoming`` wait, before any step
        or wait names it."""
        info = self.model.calls.get(call)
        if call in st.introduced or info is None or info.callee != party:
            return
        st.introduced.add(call)
        first = next((o for o in self.model.obs if o.party == party and o.call == call and
                      o.event == "incoming"), None)
        if first is not None:
            obs = [o for o in self.model.obs if o.party == party]
            self._wait(party, first, st, obs)

    def _name_calls(self, party: str) -> None:
        """Name every call this party placed or answered that a step aims at."""
        names = self.names.setdefault(party, {})
        taken = set(names.values())
        for cid in sorted(self.need_names[party] | set(names),
                          key=lambda c: self.model.calls[c].start if c in self.model.calls
                          else 0):
            info = self.model.calls.get(cid)
            if info is None or cid in names:
                continue
            if info.caller == party and info.auto_from is None:
                base = f"to-{info.callee or 'call'}"
            elif info.callee == party:
                base = f"from-{info.caller or 'call'}"
            else:
                self.model.note(f"{party} acts on a call its agent places by itself "
                                f"({cid[:16]}...): a step cannot name it, so it aims at the "
                                "current call")
                continue
            name, n = base, 2
            while name in taken:
                name, n = f"{base}-{n}", n + 1
            names[cid] = name
            taken.add(name)

    def _sleep(self, st: _State, gap: float) -> None:
        if gap >= MIN_SLEEP:
            st.steps.append(Step("sleep", duration(gap), ""))
        st.anchor += max(gap, 0)

    def _tail(self, party: str, st: _State, obs: list[Obs]) -> None:
        """Wait for the last thing this party sees (its calls' end, an answer); not for the
        end of a call it refused (a PJSUA agent refuses some offers before its application
        sees the call, e.g. RTP/SAVP without SRTP)."""
        refused = {a.call for a in self.model.acts if a.party == party and a.kind == "reject"}
        later = [o for o in obs if o.time > st.anchor and o.time >= self.t0 and
                 o.call not in refused]
        if later:
            self._wait(party, later[-1], st, obs)
        elif st.steps and st.steps[-1].kind in ("message", "request", "info", "transfer",
                                                "register", "unregister"):
            st.steps.append(Step("sleep", "300ms", "time for the answer to arrive"))
