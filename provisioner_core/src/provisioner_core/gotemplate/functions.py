"""The function library: Go's built-ins, Sprig, Gomplate, and the functions refused (each with its reason).

Importing the family modules registers their functions in ``registry.BUILTINS``. A template that
names a refused or unknown function fails before it runs, unless the caller passes that name in
``funcs`` (Atmos's ``atmos.Component``, for instance).
"""

from __future__ import annotations

from . import builtins_go, encoding, gomplate, paths, regex, sprig  # noqa: F401 -- imported to register
from .registry import ARITY, BUILTINS, ENV_FUNCTIONS, REFUSED, refuse

NON_DETERMINISTIC = "is refused: non-deterministic (stack resolution must be reproducible)"
EXTERNAL = "is refused: it reads files, the network or external data sources"
ATMOS_ONLY = "is an Atmos function this engine does not provide (a caller may pass it in funcs)"
NOT_IMPLEMENTED = "is not supported by this engine"
OTHER_TOOL = "belongs to another tool's templates (helmfile, Helm, Atmos toolchain), not to Atmos stack templates"

refuse(
    NON_DETERMINISTIC,
    # Sprig: time, randomness, keys and certificates.
    "now", "date", "dateInZone", "date_in_zone", "dateModify", "date_modify", "mustDateModify", "ago",
    "duration", "durationRound", "unixEpoch", "toDate", "mustToDate", "htmlDate", "htmlDateInZone",
    "randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randInt", "randBytes", "uuidv4", "shuffle",
    "genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert",
    "genSignedCertWithKey", "buildCustomCert", "encryptAES", "bcrypt", "htpasswd",
)
refuse(EXTERNAL, "getHostByName", "datasource", "ds", "include", "defineDatasource", "datasourceExists", "datasourceReachable", "listDatasources")
refuse(
    ATMOS_ONLY,
    "atmos", "atmos.Component", "atmos.Store", "atmos.GomplateDatasource", "atmos.Resolve", "collectKeys",
    "terraform.output", "terraform.state", "store.get", "exec",
)
refuse(
    NOT_IMPLEMENTED,
    "semver", "semverCompare", "decryptAES", "derivePassword", "urlParse", "urlJoin", "randSeededNumeric",
    "toToml", "toTOML", "toml", "data.TOML", "data.ToTOML", "data.CSV", "data.CSVByRow", "data.CSVByColumn", "data.ToCSV",
    "strings.Slug", "strings.WordWrap", "tpl", "tmpl.Exec", "tmpl.Inline", "tmpl.Path",
)
refuse(OTHER_TOOL, "requiredEnv", "trimV", "lookup", "readFile", "exec.Command")

# Whole Gomplate namespaces that only read the clock, randomness, files or the network, or call Atmos.
REFUSED_NAMESPACES = {
    "time": NON_DETERMINISTIC,
    "random": NON_DETERMINISTIC,
    "uuid": NON_DETERMINISTIC,
    "file": EXTERNAL,
    "net": EXTERNAL,
    "sockaddr": EXTERNAL,
    "atmos": ATMOS_ONLY,
    "terraform": ATMOS_ONLY,
    "store": ATMOS_ONLY,
}


# Any other namespace (Gomplate's cloud-service ones among them) is refused whole: core calls no service.
UNKNOWN_NAMESPACE = "is refused: its namespace is not one this engine provides (Gomplate's file, network, service and data-source namespaces are refused)"
PROVIDED_NAMESPACES = frozenset(name.split(".", 1)[0] for name in BUILTINS if "." in name)


def refusal_reason(name: str) -> str | None:
    """Why a function that is not built in is refused, or None when it is simply unknown."""
    reason = REFUSED.get(name)
    if reason is None and "." in name:
        namespace = name.split(".", 1)[0]
        reason = REFUSED_NAMESPACES.get(namespace) or (None if namespace in PROVIDED_NAMESPACES else UNKNOWN_NAMESPACE)
    return reason


__all__ = ["ARITY", "BUILTINS", "ENV_FUNCTIONS", "REFUSED", "REFUSED_NAMESPACES", "refusal_reason"]
