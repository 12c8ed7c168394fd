"""Permissions (CONTRACT §2.9, step 9): which models a key may use."""

from __future__ import annotations

from mockair.catalog import Model
from mockair.errors import ApiError, PermissionDenied
from mockair.state.keys import Principal


def permission_error(principal: Principal | None, model: Model) -> ApiError | None:
    """The 403 a request with this model must get, or None when it is allowed."""
    if principal is None:
        return None
    record = principal.record
    if record is not None:
        denied = (record.allowed_models and model.id not in record.allowed_models) or (
            model.id in record.blocked_models
        )
        if not denied:
            denied = (record.allowed_makers and model.owned_by not in record.allowed_makers) or (
                model.owned_by in record.blocked_makers
            )
        if not denied:
            model_class = model.model_class
            denied = (record.allowed_classes and model_class not in record.allowed_classes) or (
                model_class in record.blocked_classes
            )
        if denied:
            return PermissionDenied(
                f"Model '{model.id}' is not allowed for this API key.", param="model"
            )
    if principal.tier == "free" and model.tier == "paid":
        return PermissionDenied(
            f"Model '{model.id}' is not available on the free tier.",
            code="free_tier_gated",
            param="model",
        )
    return None


def may_use(principal: Principal | None, model: Model) -> bool:
    return permission_error(principal, model) is None
