package starttls_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mailtriage/mailtriage/starttls"
)

func ExampleProbe_Check() {
	probe := &starttls.Probe{HELO: "probe.example.net", Timeout: 10 * time.Second}
	res, err := probe.Check(context.Background(), "mx1.example.com", "")
	if err != nil {
		fmt.Println(err) // starttls: STARTTLS not offered, ...
		return
	}
	fmt.Println(res.TLSVersion, res.CipherSuite, res.Verified, res.VerifyError)
}
