"""One sample phone per vendor, with its real User-Agent form and the boot sequence the
reference (shared/reference/phones.md) describes: (file, expected status, carries the account)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    vendor: str
    model: str
    mac: str
    user_agent: str
    boot: tuple[tuple[str, int, bool], ...]

    def for_mac(self, mac: str) -> Sample:
        """The same phone with another MAC (in the User-Agent and the file names)."""
        old, upper, colon = (
            self.mac,
            self.mac.upper(),
            ":".join(self.mac[index : index + 2] for index in range(0, 12, 2)),
        )
        new_colon = ":".join(mac[index : index + 2] for index in range(0, 12, 2))
        agent = (
            self.user_agent.replace(colon, new_colon).replace(upper, mac.upper()).replace(old, mac)
        )
        boot = tuple(
            (name.replace(old, mac).replace(upper, mac.upper()), status, device)
            for name, status, device in self.boot
        )
        return Sample(self.vendor, self.model, mac, agent, boot)


SAMPLES = (
    Sample(
        "yealink",
        "T46U",
        "805ec0aa0001",
        "Yealink SIP-T46U 108.86.0.90 80:5e:c0:aa:00:01",
        (
            ("805ec0aa0001.boot", 200, False),
            ("y000000000000.cfg", 200, False),
            ("805ec0aa0001.cfg", 200, True),
        ),
    ),
    Sample(
        "polycom",
        "VVX450",
        "64167faa0002",
        "FileTransport PolycomVVX-VVX_450-UA/6.4.6.2118 Type/Application",
        (
            ("64167faa0002.cfg", 404, False),
            ("000000000000.cfg", 200, False),
            ("64167faa0002-provisioner.cfg", 200, True),
            ("64167faa0002-directory.xml", 200, True),
        ),
    ),
    Sample(
        "snom",
        "D785",
        "000413aa0003",
        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413AA0003"
        " SXM:0 UXM:0)",
        (("snomD785.htm", 200, False), ("snomD785-000413AA0003.htm", 200, True)),
    ),
    Sample(
        "grandstream",
        "GRP2614",
        "c074adaa0004",
        "Grandstream Model HW GRP2614 SW 1.0.5.15 DevId c074adaa0004",
        (("cfgc074adaa0004", 404, False), ("cfgc074adaa0004.xml", 200, True)),
    ),
    Sample(
        "cisco_mpp",
        "8841",
        "00562baa0005",
        "Cisco-CP-8841-3PCC/12.0.7 (00562baa0005)",
        (("8841-3PCC.xml", 200, False), ("00562baa0005.xml", 200, True)),
    ),
    Sample(
        "cisco_spa",
        "SPA508G",
        "0002fdaa0006",
        "Cisco/SPA508G-7.4.8a (0002FDAA0006)(CBT141400UK)",
        (("spa508G.cfg", 200, False), ("spa0002fdaa0006.xml", 200, True)),
    ),
    Sample(
        "fanvil",
        "X4U",
        "0c383eaa0007",
        "Fanvil X4U 2.12.16.17 0c383eaa0007",
        (("f0X4hw1.100.cfg", 200, False), ("0c383eaa0007.cfg", 200, True)),
    ),
    Sample(
        "gigaset",
        "N870",
        "7c2f80aa0008",
        "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80AA0008",
        (("provisioning.xml", 404, False), ("7C2F80AA0008.xml", 200, True)),
    ),
    Sample(
        "panasonic",
        "KX-HDV230",
        "0080f0aa0009",
        "Panasonic_KX-HDV230/01.133 (0080f0aa0009)",
        (("KX-HDV230.cfg", 200, False), ("Config0080F0AA0009.cfg", 200, True)),
    ),
)
SAMPLE_IDS = [sample.vendor for sample in SAMPLES]
