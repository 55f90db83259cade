"""The lab switch's configuration, made as docs/freeswitch.md tells an operator.

``write_configuration`` makes the whole configuration of a lab switch in one ``freeswitch.xml``
(FreeSWITCH's pre-processor drops lines holding ``<include>``, so nothing is included but the
stock English phrases and the standby copy, each on a line of its own): the global variables of
docs §4, the modules of §2 (mod_xml_curl loaded before mod_callcenter), the xml_curl binding of
§3 with the server's token, mod_python3's standby watch, the emergency safety net as the static
``global`` context, and two sofia profiles bound to 127.0.0.1 on free ports: ``internal`` for
registered phones and ``external`` for the carrier, whose gateway (``provider``) points at a SIP
agent the test runs. No STUN, no IPv6, nothing outside loopback. Flat on purpose: one small
function per configuration file, in the order freeswitch.xml holds them.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import socket
import struct
import wave
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

FREESWITCH_PREFIX = Path(os.environ.get("FREESWITCH_PREFIX", "/opt/freeswitch-provisioner"))
EVENT_SOCKET_PASSWORD = "ClueCon-lab"
# The English phrases `make install` puts in the sample configuration.
STOCK_LANGUAGE = FREESWITCH_PREFIX / "etc" / "freeswitch" / "lang" / "en"
GATEWAY = "provider"
PROBE_CONTEXT = "lab-probe"
MODULES = (
    "mod_logfile",
    "mod_event_socket",
    "mod_xml_curl",  # before mod_callcenter, so the queues are fetched when it starts
    "mod_sofia",
    "mod_loopback",
    "mod_commands",
    "mod_dptools",
    "mod_hash",
    "mod_db",
    "mod_expr",
    "mod_dialplan_xml",
    "mod_sndfile",
    "mod_native_file",
    "mod_local_stream",
    "mod_tone_stream",
    "mod_shout",
    "mod_spandsp",
    "mod_voicemail",
    "mod_callcenter",
    "mod_python3",
    "mod_say_en",  # mod_voicemail's phrases say numbers and names; without it, it hangs up
)
EMERGENCY_EXPRESSION = r"^(112|911|144|09008844)$"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing listens on now (TCP or UDP), on loopback."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_sip_port() -> int:
    """A port free for both UDP and TCP: sofia listens on both."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port free for both UDP and TCP on 127.0.0.1")


@dataclass(frozen=True)
class SwitchPorts:
    """Where the lab switch listens and whom it talks to, all on 127.0.0.1."""

    internal: int
    external: int
    event_socket: int
    carrier: int
    rtp_start: int

    @classmethod
    def choose(cls, carrier: int) -> SwitchPorts:
        """Free ports for each listener; an RTP range of 400 ports away from other labs."""
        rtp_start = 20000 + (os.getpid() % 100) * 400
        return cls(free_sip_port(), free_sip_port(), free_port(), carrier, rtp_start)


@dataclass(frozen=True)
class SwitchSettings:
    """What the configuration is made from."""

    folder: Path
    ports: SwitchPorts
    server_url: str
    token: str
    mailer: str = "/usr/sbin/sendmail"
    mailer_arguments: str = "-t"
    # Extensions of a static ``public`` context (what the switch falls back to when our server
    # says "not found"): bench/freeswitch_calls.py's reference dialplan.
    static_public: str = ""
    # Domains of a static directory (after our server's "not found"): the bench's reference.
    static_directory: str = ""
    # How often the standby watch asks for the pack (docs §3; 30 s by default in production).
    standby_interval: float = 2.0


def element(tag: str, body: str = "", **attributes: str) -> str:
    """One XML element with quoted attributes (``name_`` for the reserved ``name``)."""
    text = "".join(f" {key.rstrip('_')}={quoteattr(value)}" for key, value in attributes.items())
    return f"<{tag}{text}>{body}</{tag}>" if body else f"<{tag}{text}/>"


def params(values: dict[str, str]) -> str:
    """``<param name= value=/>`` lines."""
    return "\n".join(element("param", name=name, value=value) for name, value in values.items())


def configuration(name: str, body: str) -> str:
    """One ``<configuration>`` of the configuration section."""
    return element("configuration", "\n" + body + "\n", name=name, description="lab")


def switch_conf(settings: SwitchSettings) -> str:
    """Core settings: RTP ports, the mailer (docs §7), no console colours."""
    return configuration(
        "switch.conf",
        element(
            "settings",
            params(
                {
                    "colorize-console": "false",
                    "loglevel": "debug",
                    "max-sessions": "1000",
                    "sessions-per-second": "1000",
                    "rtp-start-port": str(settings.ports.rtp_start),
                    "rtp-end-port": str(settings.ports.rtp_start + 399),
                    "mailer-app": settings.mailer,
                    "mailer-app-args": settings.mailer_arguments,
                    "dump-cores": "no",
                }
            ),
        ),
    )


def python_conf() -> str:
    """docs §5: mod_python3 runs the standby watch of provisioner.callrouting at start-up."""
    return configuration(
        "python.conf", element("settings", params({"startup-script": "provisioner.callrouting"}))
    )


def standby_include(section: str) -> str:
    """docs §3: the standby copy's include, on a line of its own, in ``section``."""
    return (
        "\n"
        + element("X-PRE-PROCESS", cmd="include", data=f"provisioner-standby/{section}.xml")
        + "\n"
    )


def modules_conf() -> str:
    """Only the modules built (each other one would log a CRIT line)."""
    loads = "\n".join(element("load", module=module) for module in MODULES)
    return configuration("modules.conf", element("modules", loads))


def logfile_conf(folder: Path) -> str:
    """Everything to ``<folder>/log/freeswitch.log``, which the tests read."""
    profile = element(
        "profile",
        element("settings", params({"logfile": str(folder / "log" / "freeswitch.log")}))
        + element(
            "mappings", element("map", name="all", value="debug,info,notice,warning,err,crit,alert")
        ),
        name="default",
    )
    return configuration("logfile.conf", element("profiles", profile))


def event_socket_conf(port: int) -> str:
    """The event socket fs_cli uses, on loopback only."""
    return configuration(
        "event_socket.conf",
        element(
            "settings",
            params(
                {
                    "listen-ip": "127.0.0.1",
                    "listen-port": str(port),
                    "password": EVENT_SOCKET_PASSWORD,
                }
            ),
        ),
    )


def xml_curl_conf(settings: SwitchSettings) -> str:
    """docs §3: directory, dialplan and configuration from the server, with its token."""
    binding = params(
        {
            "gateway-credentials": f"freeswitch:{settings.token}",
            "auth-scheme": "basic",
            "disable-100-continue": "true",
            "timeout": "5",
        }
    )
    url = element(
        "param",
        name="gateway-url",
        value=settings.server_url.rstrip("/") + "/freeswitch/xml",
        bindings="directory|dialplan|configuration",
    )
    return configuration(
        "xml_curl.conf", element("bindings", element("binding", url + binding, name="provisioner"))
    )


def sofia_profile(
    name: str, port: int, context: str, authenticate: bool, gateways: str = ""
) -> str:
    """A sofia profile bound to 127.0.0.1 only (SIP and RTP), without STUN."""
    settings = params(
        {
            "sip-ip": "127.0.0.1",
            "rtp-ip": "127.0.0.1",
            "ext-sip-ip": "127.0.0.1",
            "ext-rtp-ip": "127.0.0.1",
            "sip-port": str(port),
            "context": context,
            "dialplan": "XML",
            "auth-calls": "true" if authenticate else "false",
            "challenge-realm": "auto_from",
            "inbound-codec-prefs": "PCMU,PCMA",
            "outbound-codec-prefs": "PCMU,PCMA",
            "dtmf-type": "rfc2833",
            "rfc2833-pt": "101",
            "manage-presence": "true" if authenticate else "false",
            "rtp-timer-name": "soft",
            "nonce-ttl": "60",
            "local-network-acl": "localnet.auto",
            "user-agent-string": "FreeSWITCH-lab",
        }
    )
    body = element("settings", settings)
    if gateways:
        body += element("gateways", gateways)
    return element("profile", body, name=name)


def sofia_conf(ports: SwitchPorts) -> str:
    """Phones register on ``internal``; the carrier sends and takes calls on ``external``."""
    gateway = element(
        "gateway",
        params(
            {
                "proxy": f"127.0.0.1:{ports.carrier}",
                "register": "false",
                "caller-id-in-from": "true",
                "ping": "0",
            }
        ),
        name=GATEWAY,
    )
    profiles = sofia_profile("internal", ports.internal, "public", True) + sofia_profile(
        "external", ports.external, "public", False, gateway
    )
    return configuration(
        "sofia.conf",
        element("global_settings", params({"log-level": "0"})) + element("profiles", profiles),
    )


def local_stream_conf(folder: Path) -> str:
    """The hold music ``local_stream://moh`` (docs §2) from a folder of 8 kHz files."""
    directory = element(
        "directory",
        params(
            {
                "rate": "8000",
                "shuffle": "false",
                "channels": "1",
                "interval": "20",
                "timer-name": "soft",
            }
        ),
        name="moh",
        path=str(folder / "moh"),
    )
    return configuration("local_stream.conf", directory)


def voicemail_conf(folder: Path) -> str:
    """The ``default`` voicemail profile, mailing each message with the audio attached."""
    email = element(
        "email",
        params(
            {
                "template-file": str(folder / "conf" / "voicemail.tpl"),
                "notify-template-file": str(folder / "conf" / "voicemail.tpl"),
                "date-fmt": "%Y-%m-%d %H:%M",
                "email-from": "voicemail@lab.invalid",
            }
        ),
    )
    profile = element(
        "profile",
        params(
            {
                "file-extension": "wav",
                "terminator-key": "#",
                "max-login-attempts": "3",
                "digit-timeout": "5000",
                "min-record-len": "1",
                "max-record-len": "60",
                "tone-spec": "%(1000, 0, 640)",
                "record-silence-threshold": "0",
                "callback-dialplan": "XML",
                "callback-context": "default",
                "allow-empty-password-auth": "false",
            }
        )
        + email,
        name="default",
    )
    return configuration("voicemail.conf", element("profiles", profile))


VOICEMAIL_TEMPLATE = """\
From: "Voicemail" <${voicemail_email_from}>
To: <${voicemail_email}>
Subject: Voicemail from ${voicemail_caller_id_number} for ${voicemail_account}
X-Voicemail-Box: ${voicemail_account}@${voicemail_domain}
X-Voicemail-Caller: ${voicemail_caller_id_number}
Content-Type: multipart/mixed; boundary="XXXX_boundary_XXXX"

--XXXX_boundary_XXXX
Content-Type: text/plain

A message of ${voicemail_message_len} seconds from ${voicemail_caller_id_number}.

--XXXX_boundary_XXXX--
"""


def probe_context() -> str:
    """The far end of the differential tests' loopback calls (tests/e2e/probe.py): it
    answers, and for ``probe-key`` presses 7 after a second and a half."""
    hold = element(
        "condition",
        element("action", application="answer") + element("action", application="park"),
        field="destination_number",
        expression="^probe-hold$",
    )
    key = element(
        "condition",
        element("action", application="answer")
        + element("action", application="sleep", data="1500")
        + element("action", application="send_dtmf", data="7")
        + element("action", application="park"),
        field="destination_number",
        expression="^probe-key$",
    )
    return element(
        "context",
        element("extension", hold, name="probe-hold") + element("extension", key, name="probe-key"),
        name=PROBE_CONTEXT,
    )


def emergency_context() -> str:
    """docs §3, "A safety net for emergency calls": the static ``global`` context."""
    condition = element(
        "condition",
        element("action", application="set", data="hangup_after_bridge=true")
        + element("action", application="bridge", data=f"sofia/gateway/{GATEWAY}/$1"),
        field="destination_number",
        expression=EMERGENCY_EXPRESSION,
    )
    return element("context", element("extension", condition, name="emergency"), name="global")


def document(settings: SwitchSettings) -> str:
    """The whole ``freeswitch.xml``."""
    folder = settings.folder
    variables = "\n".join(
        element("X-PRE-PROCESS", cmd="set", data=f"{name}={value}")
        for name, value in (
            ("provisioner_url", settings.server_url),
            ("provisioner_token", settings.token),
            ("provisioner_cache", str(folder / "cache")),
            ("sound_prefix", str(folder / "sounds")),
            ("provisioner_standby_interval", str(settings.standby_interval)),
        )
    )
    configurations = "\n".join(
        (
            switch_conf(settings),
            modules_conf(),
            logfile_conf(folder),
            event_socket_conf(settings.ports.event_socket),
            xml_curl_conf(settings),
            sofia_conf(settings.ports),
            local_stream_conf(folder),
            voicemail_conf(folder),
            python_conf(),
        )
    )
    return (
        '<?xml version="1.0"?>\n<document type="freeswitch/xml">\n'
        + variables
        + "\n"
        + element("section", "\n" + configurations + "\n", name="configuration")
        + "\n"
        + element(
            "section",
            standby_include("dialplan")
            + emergency_context()
            + probe_context()
            + (
                element("context", settings.static_public, name="public")
                if settings.static_public
                else ""
            ),
            name="dialplan",
        )
        + "\n"
        # mod_voicemail speaks through the phrase macros of FreeSWITCH's stock English files
        # (without them it hangs up at once); the include line stands on its own.
        + '<section name="languages">\n'
        + element("X-PRE-PROCESS", cmd="include", data="lang/en/*.xml")
        + "\n</section>"
        + "\n"
        + element(
            "section", standby_include("directory") + settings.static_directory, name="directory"
        )
        + "\n</document>\n"
    )


def write_tone(path: Path, seconds: float = 2.0, amplitude: int = 2000) -> None:
    """A 440 Hz tone (or silence, at amplitude 0), 8 kHz mono 16 bit: hold music, prompts."""
    rate = 8000
    samples = b"".join(
        struct.pack("<h", int(amplitude * math.sin(2 * math.pi * 440 * index / rate)))
        for index in range(int(rate * seconds))
    )
    with wave.open(str(path), "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(rate)
        output.writeframes(samples)


def write_stock_prompts(sounds: Path) -> None:
    """The stock prompts the English phrases and mod_say_en play, as short silences.

    An operator installs FreeSWITCH's sound packages; the lab has none, and a phrase whose
    file is missing fails (mod_voicemail then says goodbye and hangs up)."""
    names = {
        match
        for path in STOCK_LANGUAGE.rglob("*.xml")
        for match in re.findall(r'data="([\w/-]+\.wav)"', path.read_text(errors="replace"))
    }
    names |= {f"digits/{number}.wav" for number in (*range(0, 21), 30, 40, 50, 60, 70, 80, 90)}
    names |= {f"ascii/{code}.wav" for code in range(32, 127)}
    names |= {"digits/hundred.wav", "digits/thousand.wav", "digits/million.wav"}
    for name in names:
        path = sounds / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_tone(path, seconds=0.1, amplitude=0)


def write_configuration(settings: SwitchSettings) -> None:
    """The lab's folders and its ``conf/freeswitch.xml``."""
    for name in (
        "conf",
        "log",
        "db",
        "run",
        "scripts",
        "storage",
        "recordings",
        "sounds",
        "moh",
        "cache",
        "temp",
    ):
        (settings.folder / name).mkdir(parents=True, exist_ok=True)
    (settings.folder / "conf" / "freeswitch.xml").write_text(document(settings))
    shutil.copytree(STOCK_LANGUAGE, settings.folder / "conf" / "lang" / "en", dirs_exist_ok=True)
    standby = settings.folder / "conf" / "provisioner-standby"
    standby.mkdir(exist_ok=True)
    for section in ("directory", "dialplan"):
        (standby / f"{section}.xml").write_text("<include>\n</include>\n")
    (settings.folder / "conf" / "voicemail.tpl").write_text(VOICEMAIL_TEMPLATE)
    write_tone(settings.folder / "moh" / "tone.wav")
    write_stock_prompts(settings.folder / "sounds")
