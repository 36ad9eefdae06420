package config

import "testing"

// TestListenAddr: simulator mode listens on loopback unless LISTEN_ADDR
// says otherwise; Klarna modes listen on every interface, as before.
func TestListenAddr(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  map[string]string
		want string
		set  bool
	}{
		{nil, "127.0.0.1:8080", false},
		{map[string]string{"PORT": "0"}, "127.0.0.1:0", false},
		{map[string]string{"LISTEN_ADDR": "0.0.0.0:9000"}, "0.0.0.0:9000", true},
		{map[string]string{"LISTEN_ADDR": "0.0.0.0", "PORT": "9001"}, "0.0.0.0:9001", true},
		{map[string]string{"LISTEN_ADDR": "::"}, "[::]:8080", true},
	} {
		c, err := Load(env(tt.env))
		if err != nil {
			t.Fatalf("%v: %v", tt.env, err)
		}
		if c.ListenAddr != tt.want || c.ListenAddrSet != tt.set {
			t.Errorf("%v: %q (set %v), want %q", tt.env, c.ListenAddr, c.ListenAddrSet, tt.want)
		}
	}
	c, err := Load(production(nil))
	if err != nil || c.ListenAddr != ":8080" {
		t.Errorf("with Klarna: %q %v", c.ListenAddr, err)
	}
	if _, err := Load(env(map[string]string{"LISTEN_ADDR": "127.0.0.1:http"})); err == nil {
		t.Error("bad LISTEN_ADDR accepted")
	}
	d, err := Load(env(map[string]string{"DEBUG_ADDR": "127.0.0.1:6060"}))
	if err != nil || d.DebugAddr != "127.0.0.1:6060" {
		t.Errorf("DEBUG_ADDR: %q %v", d.DebugAddr, err)
	}
}
