package config

import (
	"strings"
	"testing"
)

// TestCaptureDigitalAtOrder: off by default, on when asked, and a wrong
// value is reported.
func TestCaptureDigitalAtOrder(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil || c.CaptureDigitalAtOrder {
		t.Errorf("default: %v %v", c.CaptureDigitalAtOrder, err)
	}
	c, err = Load(env(map[string]string{"CAPTURE_DIGITAL_AT_ORDER": "true"}))
	if err != nil || !c.CaptureDigitalAtOrder {
		t.Errorf("on: %v %v", c.CaptureDigitalAtOrder, err)
	}
	if _, err := Load(env(map[string]string{"CAPTURE_DIGITAL_AT_ORDER": "sometimes"})); err == nil || !strings.Contains(err.Error(), "CAPTURE_DIGITAL_AT_ORDER") {
		t.Errorf("a wrong value: %v", err)
	}
}
