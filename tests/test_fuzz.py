"""Hypothesis over signed HTTP: slash-command text, modal submissions and action payloads into the real app.

Never a 5xx, never a traceback shown to anyone, never a partial write (see tests/fuzz_harness.py).
`HYPOTHESIS_PROFILE=fuzz` (or bench/fuzz.py for 10,000 cases) runs many more examples than CI's profile.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks import announcements, onboarding, privacy, programs
from bot.blocks import approvals as approval
from tests.fuzz_harness import COMMANDS, Harness, command_text, texts, view_values

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("fuzz", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CI = settings.get_profile("ci")
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))  # bench.fuzz registers "bench"
ACTIONS = [
    announcements.SEND,
    announcements.SEND_AGAIN,
    announcements.CANCEL,
    approval.APPROVE,
    approval.REJECT,
    privacy.FORGET_CONFIRM,
    privacy.FORGET_CANCEL,
    programs.SUBSCRIBE,
    onboarding.OPEN_REGISTRATION,
]


@pytest.fixture
def harness(db_url):
    made = Harness(db_url)
    yield made
    made.close()


def users(harness: Harness):
    return st.sampled_from([harness.organizer, harness.member])


def test_slash_commands_with_any_text(harness):
    @PROFILE
    @given(data=st.data())
    def prop(data):
        command = data.draw(st.sampled_from(sorted(COMMANDS)))
        harness.run(harness.command(data.draw(users(harness)), command, data.draw(command_text(command))))

    prop()


def test_modal_submissions_with_any_state(harness):
    assert len(harness.views) >= 4, [v.get("callback_id") for v in harness.views]

    @PROFILE
    @given(data=st.data())
    def prop(data):
        view = data.draw(st.sampled_from(harness.views))
        values = data.draw(view_values(view))
        metadata = data.draw(st.none() | texts | st.sampled_from(["1", "999999", "{}", '{"id": 1}']))
        harness.run(harness.submit(data.draw(users(harness)), view, values, metadata))

    prop()


def test_actions_with_any_payload(harness):
    # A quarter of the examples in CI: a message-only button forged inside a modal makes bolt wait out its
    # ack timeout (seconds each), so this surface is the slow one; bench/fuzz.py runs it in full.
    @settings(PROFILE, max_examples=max(1, PROFILE.max_examples // 4) if PROFILE is CI else PROFILE.max_examples)
    @given(
        data=st.data(),
        action_id=st.sampled_from(ACTIONS) | texts,
        value=texts | st.integers().map(str),
        block_id=texts,
        in_view=st.booleans(),
    )
    def prop(data, action_id, value, block_id, in_view):
        harness.run(harness.action(data.draw(users(harness)), action_id, value, block_id or "b", in_view))

    prop()
