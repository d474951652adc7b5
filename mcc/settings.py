"""MCC settings: environment variables (prefix ``MCC_``), an optional ``$MCC_HOME/settings.toml``, defaults."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


def _default_home() -> Path:
    return Path.home() / ".mcc"


class OAuthIssuer(BaseModel):
    """One authorization server whose JWT access tokens ``mcc serve --transport http`` accepts.

    The tenant is fixed per issuer (``tenant``) or read from a claim (``tenant_claim``); the user id is the
    ``user_claim`` value, through ``users`` when given (claim value -> directory user id; unmapped values are
    refused). Groups always come from the tenant directory: ``group_claim`` can only narrow them (through
    ``groups``: IdP group -> MCC group), and a configured group claim missing from a token refuses the token.
    """

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(description="The exact `iss` of the tokens, e.g. https://login.example.com/")
    jwks_url: str | None = Field(default=None, description="JWKS URL; default discovered from the issuer metadata")
    jwks_file: Path | None = Field(default=None, description="A JWKS JSON file instead of fetching one")
    audience: str | None = Field(default=None, description="Required `aud`; default this server's resource_url")
    tenant: str | None = Field(default=None, description="Every token of this issuer belongs to this tenant")
    tenant_claim: str | None = Field(default=None, description="Or: the claim that names the tenant")
    user_claim: str = Field(default="sub", description="The claim whose value is (or maps to) the user id")
    users: dict[str, str] = Field(default_factory=dict, description="Claim value -> directory user id")
    group_claim: str | None = Field(default=None, description="A claim listing groups; narrows directory groups")
    groups: dict[str, str] = Field(default_factory=dict, description="IdP group -> MCC group (default: same name)")

    @model_validator(mode="after")
    def _one_tenant_rule(self) -> OAuthIssuer:
        if (self.tenant is None) == (self.tenant_claim is None):
            raise ValueError(f"oauth_issuers: {self.issuer}: set exactly one of 'tenant' or 'tenant_claim'")
        if self.jwks_url is not None and self.jwks_file is not None:
            raise ValueError(f"oauth_issuers: {self.issuer}: set 'jwks_url' or 'jwks_file', not both")
        return self


class OidcProvider(BaseModel):
    """An OpenID Connect identity provider the web app offers as a sign-in button (authorization code + PKCE).

    The user is the ``user_claim`` value (through ``users`` when given) in ``tenant``; the directory stays the
    source of truth for groups: ``group_claim`` can only narrow them (through ``groups``: IdP group -> MCC group).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$", description="Short id used in the callback URL")
    label: str = Field(default="Single sign-on", description="Button text on the sign-in page")
    issuer: str = Field(description="The issuer URL; its /.well-known/openid-configuration is read")
    client_id: str
    client_secret: SecretStr | None = Field(default=None, description="Confidential clients only")
    tenant: str = Field(description="The MCC tenant every user of this provider belongs to")
    user_claim: str = Field(default="preferred_username", description="The claim naming the directory user")
    users: dict[str, str] = Field(default_factory=dict, description="Claim value -> directory user id")
    group_claim: str | None = Field(default=None, description="A claim listing groups; narrows directory groups")
    groups: dict[str, str] = Field(default_factory=dict, description="IdP group -> MCC group (default: same name)")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile"])


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
    asana_custom_field_gids: dict[Literal["tier", "budget_planned"], str] = Field(
        default_factory=dict,
        description='Gids of the Asana custom fields for tier / budget_planned (JSON, e.g. {"tier": "120..."}); '
        'default: the workspace fields named "MCC Tier" and "MCC Budget Planned"',
    )
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
    knowledge_shared_playbooks: bool = Field(
        default=True,
        description="Every tenant also reads the shared collection (the shipped playbooks, `mcc knowledge ingest "
        "--shared`) besides its own documents; false: each tenant reads only its own (`--tenant`)",
    )

    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias="ANTHROPIC_API_KEY")
    anthropic_model: str = Field(
        default="claude-sonnet-5-5", description="Claude model id (one the installed anthropic SDK lists)"
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key that encrypts stored connection secrets; default a key file under home (0600)",
    )
    audit_key: SecretStr | None = Field(
        default=None,
        description="HMAC key of the audit chain (MCC_AUDIT_KEY, >= 32 chars); unset: generated once into "
        "home/audit.key (0600). Keep it outside the database and back it up: without it the chain cannot be verified",
    )
    confirm_writes: Literal["always", "ambiguous", "never"] = Field(
        default="ambiguous",
        description="Offline model: propose a write before doing it always, only when a value was inferred, or never",
    )
    work_routing: dict[str, Literal["workfront", "asana"]] = Field(
        default_factory=lambda: {"event": "asana"},
        description="Where a campaign type's project is created (type -> system); other types go to Workfront",
    )

    dbos_database_url: str | None = Field(
        default=None,
        description="DBOS system database (durable workflows and queues of the sync engine); default a "
        "<name>-dbos.sqlite file next to a SQLite spine, the spine database itself (schema dbos_schema) on PostgreSQL",
    )
    dbos_schema: str = Field(default="dbos", description="PostgreSQL schema of the DBOS tables")
    dbos_executor_id: str = Field(
        default="local",
        description="This worker's DBOS executor id: at start it recovers the unfinished workflows of this id "
        "(give each concurrently running worker its own)",
    )
    dbos_polling_sec: float = Field(default=1.0, gt=0, le=60, description="How often queue workers look for work")
    campaign_setup_wait_sec: float = Field(
        default=20.0,
        ge=0,
        le=300,
        description="How long start_campaign_setup waits for the workflow when this process runs a worker",
    )
    campaign_setup_worker: Literal["inline", "external"] = Field(
        default="inline",
        description="Who runs start_campaign_setup's workflow in a process that is not already a worker (chat, "
        "ask, web, evals): inline = the first call starts a DBOS worker in this process, stopped when the process "
        "closes; external = only enqueue it (answered ENQUEUED) for a running `mcc workflows worker`",
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
    oauth_issuers: list[OAuthIssuer] = Field(
        default_factory=list,
        description="Authorization servers whose JWT access tokens the HTTP servers accept (OAuth 2.1 resource "
        "server); MCC_OAUTH_ISSUERS as JSON or [[oauth_issuers]] tables in settings.toml",
    )
    oauth_scopes: list[str] = Field(default_factory=lambda: ["mcc"], description="Scopes every access token needs")
    resource_url: str | None = Field(
        default=None,
        description="This server's public MCP URL (the OAuth resource and audience); default http://host:port/mcp",
    )
    http_port: int = Field(default=8765, ge=1, le=65535)
    web_host: str = Field(default="127.0.0.1", description="`mcc web` listens here")
    web_port: int = Field(default=8000, ge=1, le=65535)
    web_public_url: str | None = Field(
        default=None, description="The web app's public URL (OIDC redirect base); https:// makes cookies Secure"
    )
    web_session_secret: SecretStr | None = Field(
        default=None, description="Signs session cookies (>= 32 chars); unset: generated once into home/web.key"
    )
    web_session_hours: int = Field(default=12, ge=1, le=24 * 30, description="A sign-in lasts this long")
    web_login_failures: int = Field(default=5, ge=1, description="Failed sign-ins per account (and 4x per client)")
    web_login_window_seconds: int = Field(default=900, ge=1, description="...within this window, then refused")
    web_oidc: list[OidcProvider] = Field(
        default_factory=list, description="OIDC sign-in providers; MCC_WEB_OIDC as JSON or [[web_oidc]] tables"
    )
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
    # --- approvals workflow (escalation, notification links, sweep period) ---
    approvals_escalate_after_hours: float = Field(
        default=24.0,
        gt=0,
        description="A pending approval older than this notifies the next group up (leadership -> vp)",
    )
    approvals_link_base: str = Field(
        default="http://127.0.0.1:8000", description="Public URL of the web app, for links in notifications"
    )
    approvals_sweep_seconds: float = Field(
        default=60.0, gt=0, description="How often the web server sweeps approvals and sends notifications"
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
    def audit_key_file(self) -> Path:
        """Where the generated audit key lives when ``audit_key`` is not set."""
        return self.home / "audit.key"

    @property
    def sandbox_dir(self) -> Path:
        return self.home / "sandboxes"


def load_settings(**overrides: object) -> Settings:
    """Read settings once at the composition root; pass the object on explicitly."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings
