"""Turning an SDK's errors into core's, written once: each backend supplies only its mapping."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from provisioner_core.errors import ProvisionerError

Mapper = Callable[[Exception], "ProvisionerError | None"]


@contextlib.contextmanager
def translating(mapper: Mapper) -> Iterator[None]:
    """Re-raise an error inside the block as the core error ``mapper`` returns for it (chained to it).

    Core errors pass unchanged; an error ``mapper`` does not know (None) is re-raised as it is.
    """
    try:
        yield
    except ProvisionerError:
        raise
    except Exception as error:  # noqa: BLE001 - mapped below, or re-raised untouched
        mapped = mapper(error)
        if mapped is None:
            raise
        raise mapped from error
