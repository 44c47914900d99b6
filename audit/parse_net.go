package audit

import "strconv"

// protocolNames are the IP protocol numbers AppArmor's network rules name
// (the names /etc/protocols and libapparmor use).
var protocolNames = map[int64]string{
	0: "ip", 1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 8: "egp", 12: "pup", 17: "udp",
	22: "idp", 29: "tp", 33: "dccp", 41: "ipv6", 46: "rsvp", 47: "gre", 50: "esp",
	51: "ah", 58: "icmpv6", 92: "mtp", 94: "beetph", 98: "encap", 103: "pim",
	108: "comp", 132: "sctp", 136: "udplite", 137: "mpls", 255: "raw",
}

// ProtocolName names an IP protocol number as AppArmor does ("tcp" for 6,
// "udp" for 17); a number without a name is "unknown(N)", and Unset is "".
func ProtocolName(n int64) string {
	if n == Unset {
		return ""
	}
	if s, ok := protocolNames[n]; ok {
		return s
	}
	return "unknown(" + strconv.FormatInt(n, 10) + ")"
}
