"""Authentication, unknown ids and URLs, outages: the SDK raises the matching exception."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.support.stripe_emulator import StripeEmulator

from .conftest import sdk_client


def test_wrong_api_key_is_an_authentication_error(emu: StripeEmulator) -> None:
    with pytest.raises(stripe.AuthenticationError) as caught:
        sdk_client(emu, "sk_test_wrong_key_123").v1.customers.create(params={"name": "x"})
    assert caught.value.http_status == 401
    assert "Invalid API Key provided" in caught.value.user_message
    assert "sk_test_wrong_key_123" not in caught.value.user_message  # redacted like Stripe
    assert emu.objects("customer") == {}


def test_missing_api_key_is_a_401_with_stripe_error_shape(emu: StripeEmulator) -> None:
    response = httpx.get(f"{emu.base_url}/v1/customers/cus_123", trust_env=False)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key")


def test_basic_auth_like_curl_u_is_accepted(emu: StripeEmulator) -> None:
    response = httpx.post(
        f"{emu.base_url}/v1/customers",
        auth=("sk_test_emulator", ""),
        data={"name": "curl", "metadata[a]": "b"},
        trust_env=False,
    )
    assert response.status_code == 200
    assert response.json()["metadata"] == {"a": "b"}


def test_unknown_id_is_resource_missing(client: stripe.StripeClient) -> None:
    for call in (
        lambda: client.v1.invoices.retrieve("in_doesnotexist"),
        lambda: client.v1.customers.retrieve("cus_nope"),
        lambda: client.v1.refunds.retrieve("re_nope"),
        lambda: client.v1.subscriptions.retrieve("sub_nope"),
        lambda: client.v1.prices.retrieve("price_nope"),
        lambda: client.v1.events.retrieve("evt_nope"),
        lambda: client.v1.payment_intents.retrieve("pi_nope"),
        lambda: client.v1.invoices.finalize_invoice("in_nope"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call()
        assert caught.value.http_status == 404
        assert caught.value.code == "resource_missing"
        assert caught.value.param == "id"


def test_unknown_customer_in_params_names_the_param(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.invoices.create(params={"customer": "cus_ghost"})
    assert (caught.value.http_status, caught.value.param) == (404, "customer")
    assert caught.value.user_message == "No such customer: 'cus_ghost'"


def test_unknown_url_is_a_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.raw_request("get", "/v1/not_a_thing")
    assert caught.value.http_status == 404
    assert "Unrecognized request URL" in caught.value.user_message


def test_outage_then_recovery(emu: StripeEmulator, client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Before"})
    emu.set_unavailable(True)
    with pytest.raises((stripe.APIError, stripe.APIConnectionError)) as caught:
        client.v1.customers.retrieve(customer.id)
    assert isinstance(caught.value, stripe.APIError)
    assert caught.value.http_status == 503
    assert caught.value.json_body["error"]["type"] == "api_error"
    with pytest.raises(stripe.APIError):
        client.v1.customers.create(params={"name": "During"}, options={"idempotency_key": "o-1"})
    emu.set_unavailable(False)
    # Nothing was saved under the key during the outage, so the retry goes through.
    created = client.v1.customers.create(
        params={"name": "During"}, options={"idempotency_key": "o-1"}
    )
    assert created.name == "During"
    assert len(emu.objects("customers")) == 2


def test_stopped_emulator_is_a_connection_error() -> None:
    with StripeEmulator() as emu:
        client = sdk_client(emu)
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.retrieve("cus_123")


def test_objects_rejects_unknown_kinds(emu: StripeEmulator) -> None:
    with pytest.raises(KeyError):
        emu.objects("widget")
