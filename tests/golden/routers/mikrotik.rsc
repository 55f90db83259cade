# provisioner: voice configuration for kantoor-gw (serial HE7A1B2C3D4), site Kantoor Amsterdam
# Import with /import; every line is one RouterOS command.
/system identity set name="kantoor-gw"
/interface vlan add name=voice vlan-id=20 interface=bridge comment="provisioner voice VLAN"
/ip address add address=10.20.0.1/24 interface=voice comment="provisioner voice"
/ip pool add name=voice ranges=10.20.0.10-10.20.0.254
/ip dhcp-server option add name=provisioning-66 code=66 value="'https://prov.example.net/p/'"
/ip dhcp-server option add name=provisioning-160 code=160 value="'https://prov.example.net/p/'"
/ip dhcp-server option add name=timezone-101 code=101 value="'Europe/Amsterdam'"
/ip dhcp-server option add name=cisco-tftp-150 code=150 value="192.0.2.9"
/ip dhcp-server option sets add name=voice options=provisioning-66,provisioning-160,timezone-101,cisco-tftp-150
/ip dhcp-server add name=voice interface=voice address-pool=voice lease-time=1d dhcp-option-set=voice
/ip dhcp-server network add address=10.20.0.0/24 gateway=10.20.0.1 dns-server=10.20.0.1 ntp-server=10.20.0.1
/ip dns set allow-remote-requests=yes
/system ntp client set enabled=yes servers=nl.pool.ntp.org
/system ntp server set enabled=yes
/ip firewall service-port set sip disabled=yes
/ip firewall mangle add chain=postrouting out-interface=ether1 protocol=udp dst-port=5060-5061 src-address=10.20.0.0/24 action=change-dscp new-dscp=24 passthrough=yes comment="provisioner SIP CS3"
/ip firewall mangle add chain=postrouting out-interface=ether1 protocol=tcp dst-port=5060-5061 src-address=10.20.0.0/24 action=change-dscp new-dscp=24 passthrough=yes comment="provisioner SIP CS3"
/ip firewall mangle add chain=postrouting out-interface=ether1 protocol=udp dst-port=16384-32768 src-address=10.20.0.0/24 action=change-dscp new-dscp=46 passthrough=yes comment="provisioner RTP EF"
/snmp community add name=provisioner security=private authentication-protocol=SHA1 authentication-password="AuthKey0123456789" encryption-protocol=AES encryption-password="PrivKey0123456789" read-access=yes write-access=no
/snmp set enabled=yes
