# provisioner: voice configuration for kantoor-gw (serial HE7A1B2C3D4), site Kantoor Amsterdam
# Import with /import. RouterOS 7 only (its NTP client syntax). Each item is added only when
# none with its name or comment exists, so importing again adds nothing twice; an item that
# exists keeps its values (remove it first to change it). The last line tells the provisioner
# that everything before it applied (an import stops at its first error).
/system identity set name="kantoor-gw"
:if ([:len [/interface vlan find name=voice]] = 0) do={/interface vlan add name=voice vlan-id=20 interface=bridge comment="provisioner voice VLAN"}
:if ([:len [/interface list member find list=LAN interface=voice]] = 0) do={/interface list member add list=LAN interface=voice comment="provisioner voice VLAN is LAN"}
:if ([:len [/ip address find comment="provisioner voice"]] = 0) do={/ip address add address=10.20.0.1/24 interface=voice comment="provisioner voice"}
:if ([:len [/ip pool find name=voice]] = 0) do={/ip pool add name=voice ranges=10.20.0.10-10.20.0.254}
:if ([:len [/ip dhcp-server option find name=provisioning-66]] = 0) do={/ip dhcp-server option add name=provisioning-66 code=66 value="'https://prov.example.net/p/'"}
:if ([:len [/ip dhcp-server option find name=provisioning-160]] = 0) do={/ip dhcp-server option add name=provisioning-160 code=160 value="'https://prov.example.net/p/'"}
:if ([:len [/ip dhcp-server option find name=timezone-101]] = 0) do={/ip dhcp-server option add name=timezone-101 code=101 value="'Europe/Amsterdam'"}
:if ([:len [/ip dhcp-server option find name=cisco-tftp-150]] = 0) do={/ip dhcp-server option add name=cisco-tftp-150 code=150 value="192.0.2.9"}
:if ([:len [/ip dhcp-server option sets find name=voice]] = 0) do={/ip dhcp-server option sets add name=voice options=provisioning-66,provisioning-160,timezone-101,cisco-tftp-150}
:if ([:len [/ip dhcp-server find name=voice]] = 0) do={/ip dhcp-server add name=voice interface=voice address-pool=voice lease-time=1d dhcp-option-set=voice disabled=no}
:if ([:len [/ip dhcp-server network find comment="provisioner voice"]] = 0) do={/ip dhcp-server network add address=10.20.0.0/24 gateway=10.20.0.1 dns-server=10.20.0.1 ntp-server=10.20.0.1 comment="provisioner voice"}
/ip dns set allow-remote-requests=yes
/system ntp client set enabled=yes servers=nl.pool.ntp.org
/system ntp server set enabled=yes
/ip firewall service-port set sip disabled=yes
:if ([:len [/ip firewall mangle find comment="provisioner SIP CS3 udp"]] = 0) do={/ip firewall mangle add chain=postrouting out-interface=ether1 protocol=udp dst-port=5060-5061 src-address=10.20.0.0/24 action=change-dscp new-dscp=24 passthrough=yes comment="provisioner SIP CS3 udp"}
:if ([:len [/ip firewall mangle find comment="provisioner SIP CS3 tcp"]] = 0) do={/ip firewall mangle add chain=postrouting out-interface=ether1 protocol=tcp dst-port=5060-5061 src-address=10.20.0.0/24 action=change-dscp new-dscp=24 passthrough=yes comment="provisioner SIP CS3 tcp"}
:if ([:len [/ip firewall mangle find comment="provisioner RTP EF"]] = 0) do={/ip firewall mangle add chain=postrouting out-interface=ether1 protocol=udp dst-port=16384-32768 src-address=10.20.0.0/24 action=change-dscp new-dscp=46 passthrough=yes comment="provisioner RTP EF"}
:if ([:len [/snmp community find name=provisioner]] = 0) do={/snmp community add name=provisioner addresses=198.51.100.0/28 security=private authentication-protocol=SHA1 authentication-password="AuthKey0123456789" encryption-protocol=AES encryption-password="PrivKey0123456789" read-access=yes write-access=no}
/snmp set enabled=yes
/tool fetch url="https://prov.example.net/z/HE7A1B2C3D4/FetchSecret0123456789/done" http-method=post http-data="outcome=ok" output=none
