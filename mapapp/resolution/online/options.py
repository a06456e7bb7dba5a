"""The online geocoder's options: ``key=value`` items, split between constructor and call.

``GEOCODER_OPTIONS`` items such as ``domain=nominatim.example.org`` go to the
geopy class's constructor or to each ``geocode`` call, whichever takes them;
an unknown one is a `ConfigError` naming the ones there are.  Secrets are
refused here: they belong in the environment, not on a command line.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mapapp.errors import ConfigError

SECRET_OPTIONS = frozenset(
    {
        "api_key",
        "apikey",
        "ak",
        "sk",
        "key",
        "secret",
        "secret_key",
        "client_secret",
        "password",
        "token",
        "access_token",
        "app_key",
        "app_code",
        "auth_id",
        "auth_token",
    }
)
UNKEYED_OPTIONS = frozenset({"timeout", "proxies", "user_agent", "ssl_context", "adapter_factory"})


def option_value(text: str) -> Any:
    """A ``key=value`` value with its obvious type: true/false, int, float, else the text."""
    lowered = text.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_option(text: str) -> tuple[str, Any]:
    """ "domain=nominatim.example.org" -> ("domain", "nominatim.example.org")."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"geocoder option {text!r} is not key=value")
    return key.strip(), option_value(value.strip())


def parse_options(items: Iterable[str]) -> dict[str, Any]:
    """``key=value`` items (as `Settings.geocoder_options` holds them) as a dict."""
    return dict(parse_option(item) for item in items)


def refuse_secret(key: str) -> None:
    """A secret never goes on a command line (shell history, ``ps``): point to the env var."""
    if key.lower() in SECRET_OPTIONS:
        raise ConfigError(
            f"geocoder option {key!r} looks like a secret: set "
            "MAPAPP_GEOCODER_API_KEY in the environment instead of passing it "
            "on the command line"
        )


def keyword_parameters(func: Callable[..., Any]) -> set[str]:
    """Names of the keyword parameters ``func`` accepts."""
    return {
        name
        for name, p in inspect.signature(func).parameters.items()
        if name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }


def split_options(cls: type, options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Options for the geocoder's constructor, and those for each ``geocode`` call."""
    init = keyword_parameters(cls.__init__)
    call = keyword_parameters(cls.geocode) - {"query", "exactly_one"}
    unknown = sorted(set(options) - init - call)
    if unknown:
        raise ConfigError(
            f"{cls.__name__} has no option {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(sorted((init | call) - {'user_agent'}))}"
        )
    return (
        {k: v for k, v in options.items() if k in init},
        {k: v for k, v in options.items() if k in call},
    )


def key_options(init: Mapping[str, Any], call: Mapping[str, Any]) -> str:
    """The options that can change an answer, as canonical JSON (no secrets, no timeouts)."""
    kept = {
        k: v
        for k, v in {**init, **call}.items()
        if k not in UNKEYED_OPTIONS and k.lower() not in SECRET_OPTIONS
    }
    return json.dumps(kept, sort_keys=True, default=str)
