#!/bin/sh
# provisioner: voice configuration for kantoor-gw (serial HE7A1B2C3D4), site Kantoor Amsterdam.
# Run after the network is up (the provisioner fetch service does), or as a uci-defaults script:
# either way it exits 0 only when everything applied, and non-zero leaves it for the next boot.
# uci batch exits 0 even when a line fails and says so on stderr only: the batch is committed
# only when stderr stayed empty, and reverted otherwise.
# Either way the provisioner is told how it went (its done URL), in the background and for up
# to 5 minutes: the network restarts below, and from uci-defaults it is not up yet.
done_url='https://prov.example.net/z/HE7A1B2C3D4/FetchSecret0123456789/done'
report() {
	(
		tries=0
		while [ "$tries" -lt 30 ]; do
			tries=$((tries + 1))
			wget -q -O /dev/null --post-data="$1" "$done_url" && exit 0
			sleep 10
		done
		logger -t provisioner "could not report $1"
	) </dev/null >/dev/null 2>&1 &
}
errors=/tmp/provisioner-uci.errors
uci batch 2>"$errors" <<'PROVISIONER_UCI'
set system.@system[0].hostname='kantoor-gw'
set system.ntp=timeserver
set system.ntp.enabled='1'
set system.ntp.enable_server='1'
delete system.ntp.server
add_list system.ntp.server='nl.pool.ntp.org'
set network.voice_vlan=device
set network.voice_vlan.type='8021q'
set network.voice_vlan.ifname='br-lan'
set network.voice_vlan.vid='20'
set network.voice_vlan.name='br-lan.20'
set network.voice=interface
set network.voice.proto='static'
set network.voice.device='br-lan.20'
set network.voice.ipaddr='10.20.0.1'
set network.voice.netmask='255.255.255.0'
set dhcp.voice=dhcp
set dhcp.voice.interface='voice'
set dhcp.voice.start='10'
set dhcp.voice.limit='245'
set dhcp.voice.leasetime='1d'
add_list dhcp.voice.dhcp_option='66,"https://prov.example.net/p/"'
add_list dhcp.voice.dhcp_option='160,"https://prov.example.net/p/"'
add_list dhcp.voice.dhcp_option='42,10.20.0.1'
add_list dhcp.voice.dhcp_option='101,"Europe/Amsterdam"'
add_list dhcp.voice.dhcp_option='150,192.0.2.9'
set firewall.voice=zone
set firewall.voice.name='voice'
set firewall.voice.network='voice'
set firewall.voice.input='ACCEPT'
set firewall.voice.output='ACCEPT'
set firewall.voice.forward='REJECT'
set firewall.voice_wan=forwarding
set firewall.voice_wan.src='voice'
set firewall.voice_wan.dest='wan'
set firewall.@defaults[0].auto_helper='0'
set firewall.voice_sip=rule
set firewall.voice_sip.name='provisioner SIP CS3'
set firewall.voice_sip.src='voice'
set firewall.voice_sip.dest='wan'
set firewall.voice_sip.proto='tcpudp'
set firewall.voice_sip.dest_port='5060-5061'
set firewall.voice_sip.target='DSCP'
set firewall.voice_sip.set_dscp='CS3'
set firewall.voice_rtp=rule
set firewall.voice_rtp.name='provisioner RTP EF'
set firewall.voice_rtp.src='voice'
set firewall.voice_rtp.dest='wan'
set firewall.voice_rtp.proto='udp'
set firewall.voice_rtp.dest_port='16384-32768'
set firewall.voice_rtp.target='DSCP'
set firewall.voice_rtp.set_dscp='EF'
set firewall.snmp_poller=rule
set firewall.snmp_poller.name='provisioner SNMP from the poller'
set firewall.snmp_poller.src='*'
set firewall.snmp_poller.src_ip='198.51.100.0/28'
set firewall.snmp_poller.proto='udp'
set firewall.snmp_poller.dest_port='161'
set firewall.snmp_poller.target='ACCEPT'
set firewall.snmp_others=rule
set firewall.snmp_others.name='provisioner SNMP from anyone else'
set firewall.snmp_others.src='*'
set firewall.snmp_others.proto='udp'
set firewall.snmp_others.dest_port='161'
set firewall.snmp_others.target='DROP'
set snmpd.public=com2sec
set snmpd.public.source='198.51.100.0/28'
set snmpd.public6=com2sec6
set snmpd.public6.source='::1/128'
set snmpd.general=snmpd
set snmpd.general.enabled='1'
set snmpd.general.snmp_version='v3'
set snmpd.provisioner=v3
set snmpd.provisioner.username='provisioner'
set snmpd.provisioner.allow_write='0'
set snmpd.provisioner.auth_type='SHA'
set snmpd.provisioner.auth_pass='AuthKey0123456789'
set snmpd.provisioner.privacy_type='AES'
set snmpd.provisioner.privacy_pass='PrivKey0123456789'
PROVISIONER_UCI
if [ -s "$errors" ]; then
	logger -t provisioner "uci batch failed: $(cat "$errors")"
	for config in system network dhcp firewall snmpd; do uci revert "$config"; done
	report 'outcome=failed&reason=uci+batch+failed+(logread+-e+provisioner)'
	exit 1
fi
if ! uci commit; then
	report 'outcome=failed&reason=uci+commit+failed'
	exit 1
fi
# SIP ALG off: the conntrack SIP helper must not rewrite SIP (auto_helper is off above).
rmmod nf_nat_sip 2>/dev/null
rmmod nf_conntrack_sip 2>/dev/null
/etc/init.d/network reload
/etc/init.d/dnsmasq restart
/etc/init.d/firewall restart
/etc/init.d/snmpd enable
/etc/init.d/snmpd restart
report 'outcome=ok'
exit 0
