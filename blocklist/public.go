package blocklist

import (
	"net"
	"net/netip"
)

// publicResolvers are the open resolvers that lists refuse (Spamhaus
// answers them 127.255.255.254, URIBL 127.0.0.1, Barracuda nothing).
var publicResolvers = map[string]string{
	"8.8.8.8": "Google Public DNS", "8.8.4.4": "Google Public DNS",
	"2001:4860:4860::8888": "Google Public DNS", "2001:4860:4860::8844": "Google Public DNS",
	"1.1.1.1": "Cloudflare", "1.0.0.1": "Cloudflare", "2606:4700:4700::1111": "Cloudflare", "2606:4700:4700::1001": "Cloudflare",
	"9.9.9.9": "Quad9", "149.112.112.112": "Quad9", "2620:fe::fe": "Quad9", "2620:fe::9": "Quad9",
	"208.67.222.222": "OpenDNS", "208.67.220.220": "OpenDNS",
	"94.140.14.14": "AdGuard DNS", "94.140.15.15": "AdGuard DNS",
	"76.76.2.0": "Control D", "76.76.10.0": "Control D",
	"185.228.168.9": "CleanBrowsing", "185.228.169.9": "CleanBrowsing",
	"64.6.64.6": "Verisign Public DNS", "64.6.65.6": "Verisign Public DNS",
}

// PublicResolver returns the operator of server (host or host:port) when
// it is a well-known public resolver, or "".
func PublicResolver(server string) string {
	host := server
	if h, _, err := net.SplitHostPort(server); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	return publicResolvers[ip.Unmap().String()]
}
