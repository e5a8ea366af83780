package detection

import "testing"

func TestNetwork16(t *testing.T) {
	for ip, want := range map[string]string{
		"203.0.113.7":       "203.0",
		"10.20.30.40":       "10.20",
		"1.2.3":             "",
		"1.2.3.4.5":         "",
		"1..3.4":            "",
		"1.2.3.":            "",
		"1234.2.3.4":        "",
		"2001:db8::1":       "",
		"ec2.amazonaws.com": "",
		"AWS Internal":      "",
		"":                  "",
	} {
		if got := network16(ip); got != want {
			t.Errorf("network16(%q) = %q, want %q", ip, got, want)
		}
	}
}
