from __future__ import annotations

import functools

import pytest
from pydantic import SecretStr

from dossier.core.types import FindingKind
from dossier.errors import ProviderError
from dossier.providers.anthropic import AnthropicProvider
from dossier.providers.base import ProviderDeps, analysis_stream, load_provider
from dossier.providers.openai import OpenAIProvider
from dossier.settings import Settings
from tests.fakes import FIXED_TIME, make_analysis, make_finding

finding = functools.partial(make_finding, at=FIXED_TIME)  # prompts must be reproducible

REQUEST = make_analysis([finding(FindingKind.NEWS_ARTICLE, "Acme opens a Berlin office")])


def test_openai_and_anthropic_are_registered_by_name(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"openai_model": "llama3.1:8b", "anthropic_model": "claude-test"}
    )
    deps = ProviderDeps(settings=configured)

    openai_provider = load_provider("openai", deps)
    anthropic_provider = load_provider("anthropic", deps)

    assert isinstance(openai_provider, OpenAIProvider)
    assert isinstance(anthropic_provider, AnthropicProvider)
    assert (openai_provider.name, openai_provider.offline, openai_provider.deterministic) == (
        "openai",
        False,
        False,  # an LLM's answer depends on the exact question: cached per wording
    )
    assert anthropic_provider.name == "anthropic"
    assert not anthropic_provider.offline
    assert openai_provider.model == "llama3.1:8b"
    assert anthropic_provider.model == "claude-test"


@pytest.mark.parametrize(
    ("name", "setting"),
    [("openai", "DOSSIER_OPENAI_API_KEY"), ("anthropic", "DOSSIER_ANTHROPIC_API_KEY")],
)
async def test_missing_key_for_the_vendor_endpoint_fails_before_any_request(
    settings: Settings, name: str, setting: str
) -> None:
    provider = load_provider(name, ProviderDeps(settings=settings))

    with pytest.raises(ProviderError, match=setting):
        await anext(aiter(provider.analyze(REQUEST)))


async def test_missing_key_falls_back_to_the_builtin_analyst(settings: Settings) -> None:
    provider = load_provider("openai", ProviderDeps(settings=settings))

    used = {u async for _, u in analysis_stream(provider, REQUEST, settings)}

    assert used == {"builtin"}


def test_the_api_key_is_not_in_the_provider_repr_or_settings_dump(settings: Settings) -> None:
    secret = "sk-live-do-not-print"
    configured = settings.model_copy(update={"openai_api_key": SecretStr(secret)})
    provider = load_provider("openai", ProviderDeps(settings=configured))

    assert secret not in repr(vars(provider))
    assert secret not in str(configured)


@pytest.mark.parametrize("name", ["openai", "anthropic"])
def test_connecting_is_capped_while_reads_wait_the_provider_timeout(
    settings: Settings, name: str
) -> None:
    configured = settings.model_copy(update={"provider_timeout_s": 45.0})
    provider = load_provider(name, ProviderDeps(settings=configured))

    timeouts = provider.endpoint.timeouts()  # type: ignore[attr-defined]

    assert (timeouts.connect, timeouts.read, timeouts.write, timeouts.pool) == (5.0, 45, 45, 45)
