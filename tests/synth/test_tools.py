"""Which tools a reply calls (CONTRACT §2.11.3), as a pure function."""

from __future__ import annotations

from mockair.synth.tools import ToolChoice, ToolDef, plan_tool_calls

WEATHER = ToolDef("get_weather", "Get the current weather for a city", None)
EMAIL = ToolDef("send_email", "Send an email to a recipient", None)
FLIGHT = ToolDef("book.flight-now", "Reserve seats on a plane", None)
TOOLS = [WEATHER, EMAIL, FLIGHT]
AUTO = ToolChoice("auto")


def calls(
    text: str,
    choice: ToolChoice = AUTO,
    *,
    tools: list[ToolDef] = TOOLS,
    last_is_user: bool = True,
    last_is_tool_result: bool = False,
    parallel: bool = False,
) -> list[str]:
    planned = plan_tool_calls(
        tools,
        choice,
        last_user_text=text,
        last_is_user=last_is_user,
        last_is_tool_result=last_is_tool_result,
        parallel=parallel,
    )
    return [tool.name for tool in planned]


def test_no_tools_or_choice_none_is_text() -> None:
    assert calls("weather", tools=[]) == []
    assert calls("What is the weather?", ToolChoice("none")) == []


def test_after_a_tool_result_the_reply_is_text() -> None:
    for choice in (AUTO, ToolChoice("required"), ToolChoice("named", "send_email")):
        assert calls("weather", choice, last_is_user=False, last_is_tool_result=True) == []


def test_auto_needs_a_user_turn_last_but_required_and_named_do_not() -> None:
    assert calls("weather", last_is_user=False) == []
    assert calls("weather", ToolChoice("required"), last_is_user=False) == ["get_weather"]
    named = ToolChoice("named", "send_email")
    assert calls("weather", named, last_is_user=False) == ["send_email"]


def test_best_match_by_shared_words() -> None:
    assert calls("What is the weather in Paris?") == ["get_weather"]
    assert calls("Please SEND an e-mail... no, an EMAIL") == ["send_email"]
    # The name is split on _ - . (book.flight-now -> book, flight, now).
    assert calls("I need to book a flight now") == ["book.flight-now"]


def test_ties_go_to_the_first_tool() -> None:
    assert calls("Hello there") == ["get_weather"]
    assert calls("Hello there", tools=[EMAIL, WEATHER]) == ["send_email"]
    # "a" is shared with both WEATHER (for a city) and EMAIL (to a recipient).
    assert calls("a", tools=[EMAIL, WEATHER]) == ["send_email"]


def test_named_choice_wins_over_the_best_match() -> None:
    assert calls("What is the weather?", ToolChoice("named", "send_email")) == ["send_email"]
    assert calls("weather", ToolChoice("named", "send_email"), parallel=True) == ["send_email"]


def test_parallel_calls_every_tool_sharing_a_word_in_order() -> None:
    text = "Send an email about the weather and reserve a plane"
    assert calls(text, parallel=True) == ["get_weather", "send_email", "book.flight-now"]
    assert calls("Send an email about the weather", parallel=True) == ["get_weather", "send_email"]
    assert calls("Send an email about the weather") == ["send_email"]
    assert calls("Hello there", parallel=True) == ["get_weather"]
    assert calls("Hello there", ToolChoice("required"), parallel=True) == ["get_weather"]
