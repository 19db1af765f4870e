from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from refold_contract import ConfigurationError, Settings

from .helpers import FAKE_KEY, FAKE_TOKEN


def test_defaults() -> None:
    settings = Settings.resolve(env={})
    assert settings.base_url == "https://app.refold.ai"
    assert (settings.api_key, settings.live, settings.drift) == (None, False, "report")


def test_precedence_is_arguments_then_options_then_environment_then_ini() -> None:
    env = {"REFOLD_BASE_URL": "http://env.test", "REFOLD_API_KEY": FAKE_KEY}
    ini = {"base_url": "http://ini.test", "strict": "true"}
    options = {"base_url": "http://option.test"}
    assert Settings.resolve(env={}, ini=ini).base_url == "http://ini.test"
    assert Settings.resolve(env=env, ini=ini).base_url == "http://env.test"
    assert Settings.resolve(env=env, ini=ini, options=options).base_url == "http://option.test"
    explicit = Settings.resolve(env=env, ini=ini, options=options, base_url="http://arg.test/")
    assert explicit.base_url == "http://arg.test"
    assert explicit.strict is True
    assert explicit.api_key == FAKE_KEY


def test_credentials_are_never_taken_from_options_or_ini() -> None:
    settings = Settings.resolve(env={}, options={"api_key": FAKE_KEY}, ini={"api_key": FAKE_KEY})
    assert settings.api_key is None


def test_repr_masks_secrets() -> None:
    settings = Settings(api_key=FAKE_KEY, session_token=FAKE_TOKEN, linked_account_id="user_1")
    text = repr(settings)
    assert FAKE_KEY not in text
    assert FAKE_TOKEN not in text
    assert "api_key='<set>'" in text
    assert "linked_account_id='<set>'" in text
    assert "user_1" not in text  # the linked account names a customer
    assert settings.secrets == (FAKE_KEY, FAKE_TOKEN)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"base_url": "app.refold.ai"}, r"not an http\(s\) URL"),
        ({"drift": "explode"}, "is not report, fail or contract:PATH"),
        ({"timeout": 0}, "must be positive"),
        ({"live": "maybe"}, "not a yes/no value"),
        ({"colour": "blue"}, "unknown setting"),
    ],
)
def test_bad_settings_are_configuration_errors(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        Settings.resolve(env={}, **kwargs)


def test_live_comes_from_the_environment_and_fixtures_become_paths() -> None:
    settings = Settings.resolve(env={"REFOLD_LIVE": "1"}, options={"fixtures": ["a", "b"]})
    assert settings.live is True
    assert settings.fixtures == (Path("a"), Path("b"))
