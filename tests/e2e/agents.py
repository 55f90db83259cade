"""Real SIP user agents for the end-to-end tests: PJSIP's pjsua2, with a null sound device.

PJSUA is one library per process, so one ``SipLab`` (an endpoint with its UDP transports on
127.0.0.1) carries every agent of a test run: the phones, which register with the switch, and
the carrier, which sends calls into the switch's ``external`` profile and takes those the
switch sends out through its gateway. This wheel's build runs 4 calls at once, ringing ones
included: a test that needs more frees a phone first. Callbacks run only inside
``SipLab.wait_until`` (the library's own threads are off), so a test reads a plain,
single-threaded story.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pjsua2 as pj

CONFIRMED = pj.PJSIP_INV_STATE_CONFIRMED
DISCONNECTED = pj.PJSIP_INV_STATE_DISCONNECTED
RINGING_STATES = (pj.PJSIP_INV_STATE_INCOMING, pj.PJSIP_INV_STATE_EARLY)
# The number the carrier's calls come from (a Dutch mobile, as the carrier delivers it).
CARRIER_CALLER = "0612345678"


@dataclass
class CallRecord:
    """What one call went through, as this agent saw it."""

    states: list[int] = field(default_factory=list)
    last_status: int = 0
    remote_uri: str = ""
    local_uri: str = ""
    request_uri: str = ""
    invite: str = ""
    digits: str = ""
    media_active: bool = False


class Call(pj.Call):  # type: ignore[misc]
    """A call of one agent, keeping its record up to date from pjsua's callbacks.

    Every call object lives as long as the library: pjsua reuses call slots, and a call
    object freed later (say, by a failed test's traceback) would hang up whichever new call
    then holds its old slot.
    """

    def __init__(self, agent: Agent, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(agent, call_id)
        self.agent = agent
        self.record = CallRecord()
        agent.lab.every_call.append(self)

    def onCallState(self, prm: Any) -> None:  # noqa: N802 - pjsua2's name
        info = self.getInfo()
        self.record.states.append(info.state)
        self.record.last_status = info.lastStatusCode
        self.record.remote_uri = info.remoteUri
        self.record.local_uri = info.localUri

    def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
        info = self.getInfo()
        self.record.media_active = any(
            media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
            for media in info.media
        )
        if self.record.media_active:
            # A stream outside the conference bridge is never clocked: no RTP, so no RFC 2833
            # keys either. The null sound device is the phone's speaker and microphone.
            audio = self.getAudioMedia(-1)
            devices = self.agent.lab.endpoint.audDevManager()
            audio.startTransmit(devices.getPlaybackDevMedia())
            devices.getCaptureDevMedia().startTransmit(audio)

    def onDtmfDigit(self, prm: Any) -> None:  # noqa: N802
        self.record.digits += prm.digit

    @property
    def state(self) -> int:
        """The newest state (``pj.PJSIP_INV_STATE_*``)."""
        return self.record.states[-1] if self.record.states else pj.PJSIP_INV_STATE_NULL

    @property
    def answered(self) -> bool:
        """True once the call was confirmed (answered both ways)."""
        return CONFIRMED in self.record.states

    @property
    def ended(self) -> bool:
        """True once the call is over."""
        return self.state == DISCONNECTED

    def answer(self, code: int = 200) -> None:
        """Answer (200) or refuse (e.g. 486) an incoming call."""
        parameters = pj.CallOpParam(True)
        parameters.statusCode = code
        super().answer(parameters)

    def hang_up(self) -> None:
        """End the call from this side (CANCEL while ringing, BYE once answered)."""
        if not self.ended:
            parameters = pj.CallOpParam(True)
            parameters.statusCode = pj.PJSIP_SC_DECLINE if not self.answered else 200
            self.hangup(parameters)

    def send_digits(self, digits: str) -> None:
        """Press keys: RFC 2833 telephone events, pjsua's default."""
        self.dialDtmf(digits)


class Agent(pj.Account):  # type: ignore[misc]
    """A SIP user agent: a phone that registers, or the carrier that does not."""

    def __init__(self, lab: SipLab, name: str) -> None:
        super().__init__()
        self.lab = lab
        self.name = name
        self.calls: list[Call] = []
        self.incoming: list[Call] = []
        self.registration_status = 0
        self.registration_active = False
        self.message_summaries: list[str] = []  # MWI NOTIFY bodies (message-summary)
        self.answer_after: float | None = None  # seconds of ringing before answering
        self.provisioned: Any = None  # a phone's ProvisionedPhone (tests/e2e/provisioned.py)

    def onMwiInfo(self, prm: Any) -> None:  # noqa: N802
        self.message_summaries.append(str(prm.rdata.wholeMsg))

    def onRegState(self, prm: Any) -> None:  # noqa: N802
        self.registration_status = prm.code
        self.registration_active = bool(self.getInfo().regIsActive)

    def onIncomingCall(self, prm: Any) -> None:  # noqa: N802
        call = Call(self, prm.callId)
        call.record.invite = str(prm.rdata.wholeMsg)
        call.record.request_uri = call.record.invite.split("\r\n", 1)[0]
        self.incoming.append(call)
        call.answer(pj.PJSIP_SC_RINGING)
        if self.answer_after is not None:
            self.lab.later(self.answer_after, lambda: call.ended or call.answer())

    def call(self, uri: str) -> Call:
        """Place a call to ``uri``."""
        call = Call(self)
        self.calls.append(call)
        call.makeCall(uri, pj.CallOpParam(True))
        return call

    @property
    def ringing(self) -> list[Call]:
        """Incoming calls ringing now."""
        return [call for call in self.incoming if call.state in RINGING_STATES]

    @property
    def registered(self) -> bool:
        """True while registered (the registrar said 200 to a registration, not a removal)."""
        return self.registration_status == 200 and self.registration_active


@dataclass
class PhoneAccount:
    """What a phone registers with: read from its provisioned file."""

    user: str
    password: str
    domain: str
    auth_user: str = ""
    display_name: str = ""


class SipLab:
    """The one pjsua2 endpoint of this process and the agents on it."""

    def __init__(self, log_path: str) -> None:
        self.endpoint = pj.Endpoint()
        self.endpoint.libCreate()
        config = pj.EpConfig()
        config.uaConfig.maxCalls = 4  # this wheel's build limit: 4 calls at once in the process
        config.uaConfig.threadCnt = 0
        config.uaConfig.mainThreadOnly = True
        config.uaConfig.userAgent = "provisioner-e2e pjsua2"
        config.logConfig.level = 5
        config.logConfig.consoleLevel = 0
        config.logConfig.filename = log_path
        config.medConfig.noVad = True
        config.medConfig.clockRate = 8000
        config.medConfig.sndClockRate = 8000
        self.endpoint.libInit(config)
        self.endpoint.audDevManager().setNullDev()
        self.phone_transport, self.phone_port = self._transport()
        self.carrier_transport, self.carrier_port = self._transport()
        self.endpoint.libStart()
        self.agents: list[Agent] = []
        self.every_call: list[Call] = []
        self.timers: list[tuple[float, Callable[[], object]]] = []
        self.rtp_base = 30000 + (os.getpid() % 150) * 100

    def _transport(self) -> tuple[int, int]:
        config = pj.TransportConfig()
        config.boundAddress = "127.0.0.1"
        config.publicAddress = "127.0.0.1"
        config.port = 0
        transport = self.endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, config)
        info = self.endpoint.transportGetInfo(transport)
        return transport, int(info.localName.rsplit(":", 1)[1])

    def _account_config(self, uri: str, transport: int) -> Any:
        config = pj.AccountConfig()
        config.idUri = uri
        config.sipConfig.transportId = transport
        config.natConfig.contactRewriteUse = 0
        config.natConfig.viaRewriteUse = 0
        config.natConfig.sdpNatRewriteUse = 0
        config.natConfig.sipStunUse = pj.PJSUA_STUN_USE_DISABLED
        config.natConfig.mediaStunUse = pj.PJSUA_STUN_USE_DISABLED
        config.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
        config.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
        config.mediaConfig.transportConfig.port = self.rtp_base
        config.mediaConfig.transportConfig.portRange = 100
        return config

    def phone(self, account: PhoneAccount, switch_port: int, register: bool = True) -> Agent:
        """A phone whose SIP account is ``account``, its server reached at the switch.

        The phone's server name (the tenant's SIP domain) stands for the provider's host; in
        the lab its DNS is the switch's internal profile on 127.0.0.1, used as outbound proxy.
        """
        config = self._account_config(
            f'"{account.display_name}" <sip:{account.user}@{account.domain}>'
            if account.display_name
            else f"sip:{account.user}@{account.domain}",
            self.phone_transport,
        )
        config.regConfig.registrarUri = f"sip:{account.domain}"
        config.regConfig.registerOnAdd = register
        config.regConfig.timeoutSec = 300
        config.sipConfig.proxies.append(f"sip:127.0.0.1:{switch_port};lr")
        config.mwiConfig.enabled = True  # subscribe to message-summary, as desk phones do
        config.sipConfig.authCreds.append(
            pj.AuthCredInfo("digest", "*", account.auth_user or account.user, 0, account.password)
        )
        agent = Agent(self, account.user)
        agent.create(config)
        self.agents.append(agent)
        return agent

    def carrier(self) -> Agent:
        """The provider's carrier: the switch's gateway points at this agent's port."""
        # Not 127.0.0.1: pjsua gives an incoming call to the account whose domain matches the
        # request's before the one whose user does, and the phones' contacts are on loopback.
        config = self._account_config(
            f"sip:{CARRIER_CALLER}@carrier.lab.invalid", self.carrier_transport
        )
        config.regConfig.registerOnAdd = False
        agent = Agent(self, "carrier")
        agent.create(config, True)  # the default account: takes every call no phone takes
        self.agents.append(agent)
        return agent

    def later(self, seconds: float, action: Callable[[], object]) -> None:
        """Run ``action`` from the event loop after ``seconds``."""
        self.timers.append((time.monotonic() + seconds, action))

    def pump(self, seconds: float = 0.05) -> None:
        """Let pjsua run (callbacks fire here) for about ``seconds``."""
        self.endpoint.libHandleEvents(int(seconds * 1000))
        now = time.monotonic()
        due = [timer for timer in self.timers if timer[0] <= now]
        self.timers = [timer for timer in self.timers if timer[0] > now]
        for _, action in due:
            action()

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Run the agents until ``condition`` holds; fail after ``timeout`` s saying what."""
        deadline = time.monotonic() + timeout
        for _ in range(1_000_000):
            if condition():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            self.pump(0.02)

    def settle(self, seconds: float) -> None:
        """Let the agents run for ``seconds`` (to see that something does NOT happen)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(0.02)

    def hang_up_everything(self) -> None:
        """End every call, so the next test starts from idle agents."""
        self.endpoint.hangupAllCalls()
        self.wait_until(
            lambda: all(call.ended or not call.record.states for call in self.every_call),
            10,
            "every call to end (pjsua frees a call's slot only then)",
        )
        self.settle(0.2)
        for agent in self.agents:
            agent.calls.clear()
            agent.incoming.clear()
            agent.answer_after = None
        self.timers.clear()

    def close(self) -> None:
        """End the calls, free every call object while the library still runs (one freed
        after it aborts the process), unregister, and destroy the library."""
        self.endpoint.hangupAllCalls()
        self.settle(0.3)
        for agent in self.agents:
            agent.calls.clear()
            agent.incoming.clear()
        self.every_call.clear()
        gc.collect()
        for agent in self.agents:
            agent.shutdown()
        self.settle(0.3)
        self.endpoint.libDestroy()
