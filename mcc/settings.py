"""MCC settings: environment variables (prefix ``MCC_``), an optional ``$MCC_HOME/settings.toml``, defaults."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


def _default_home() -> Path:
    return Path.home() / ".mcc"


class Settings(BaseSettings):
    """Everything configurable. Secrets are ``SecretStr`` so they never print or log."""

    model_config = SettingsConfigDict(env_prefix="MCC_", env_nested_delimiter="__", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Where the database, sandboxes and index live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under home")
    tenant: str = Field(default="acme", description="Default tenant slug for CLI and stdio servers")
    user: str = Field(default="maya.chen", description="Default principal for CLI and stdio servers")

    workfront_backend: Literal["sandbox", "rest"] = "sandbox"
    workfront_url: str = "https://example.my.workfront.com"
    workfront_api_version: str = "v20.0"
    workfront_api_key: SecretStr | None = None
    workfront_rate_per_minute: int = Field(default=100, ge=1, description="Per system and per principal")

    asana_backend: Literal["sandbox", "rest"] = "sandbox"
    asana_url: str = "https://app.asana.com/api/1.0"
    asana_token: SecretStr | None = None
    asana_workspace_gid: str | None = None
    asana_rate_per_minute: int = 150
    salesforce_rate_per_minute: int = 50
    rate_store: Literal["database", "memory"] = Field(
        default="database", description="Rate-limit counters: shared in the database (all replicas) or per process"
    )

    embedding_model: str = Field(default="all-MiniLM-L6-v2", description="Model name or path")
    embedding_backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="onnx: ONNX Runtime on a copy exported once under home/cache (no torch import after that); "
        "torch: sentence-transformers (same vectors, slower start)",
    )
    chroma_url: str | None = Field(default=None, description="Chroma server URL; default persistent client")

    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias="ANTHROPIC_API_KEY")
    anthropic_model: str = "claude-sonnet-4-5"
    confirm_writes: Literal["always", "ambiguous", "never"] = Field(
        default="ambiguous",
        description="Offline model: propose a write before doing it always, only when a value was inferred, or never",
    )
    work_routing: dict[str, Literal["workfront", "asana"]] = Field(
        default_factory=lambda: {"event": "asana"},
        description="Where a campaign type's project is created (type -> system); other types go to Workfront",
    )

    policy_mode: Literal["enforce", "log_only"] = "enforce"
    policy_dir: Path | None = Field(
        default=None, description="Directory with *.cedar and schema.cedarschema; default the packaged policies"
    )
    http_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="Bearer tokens of `mcc serve --transport http`: token -> 'tenant/user_id'. Secrets: keep them in "
        "the environment (MCC_HTTP_TOKENS as JSON) or settings.toml, never in code.",
        repr=False,
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8765, ge=1, le=65535)
    fx_rates_to_usd: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "USD": Decimal("1"),
            "EUR": Decimal("1.08"),
            "GBP": Decimal("1.27"),
            "CAD": Decimal("0.73"),
            "AUD": Decimal("0.66"),
            "JPY": Decimal("0.0067"),
        },
        description="Conversion rates used before comparing budgets with approval thresholds",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        import os

        home = Path(os.environ.get("MCC_HOME", str(_default_home())))
        toml = TomlConfigSettingsSource(settings_cls, toml_file=home / "settings.toml")
        return (init_settings, env_settings, toml, file_secret_settings)

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force: the configured one or SQLite under ``home``."""
        return self.database_url or f"sqlite:///{self.home / 'mcc.db'}"

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def sandbox_dir(self) -> Path:
        return self.home / "sandboxes"


def load_settings(**overrides: object) -> Settings:
    """Read settings once at the composition root; pass the object on explicitly."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings
