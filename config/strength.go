package config

import (
	_ "embed"
	"fmt"
	"math"
	"strings"
	"unicode"
)

// Thresholds for secrets (SESSION_SECRET, TOKEN_KEYS) and the admin
// password, enforced outside simulator mode. See docs/SECURITY.md.
const (
	// minSecretDistinct is the fewest different characters a secret may
	// use: 32 × "a" has one; openssl rand -hex 32 has 12 to 16, and a
	// random 32-character hex string fewer than 8 less than once in a
	// million.
	minSecretDistinct = 8
	// minSecretBits is the least Shannon-entropy estimate a secret may have:
	// its length times the entropy of its own character frequencies. A
	// random 32-character hex string scores 115 on average and practically
	// never under 90, openssl rand -hex 32 about 240, 40 × "k" zero.
	minSecretBits = 80
	// minAdminPasswordLength is the shortest ADMIN_PASSWORD accepted.
	minAdminPasswordLength = 12
)

//go:embed common-passwords.txt
var commonPasswordList string

// commonPasswords is the embedded list, as a set.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// secretWeakness says why a secret is too weak to sign cookies or encrypt
// tokens, or returns "" when it is not. It cannot prove a secret random;
// it refuses what is plainly not: few distinct characters, a repeated
// pattern, a run such as "abcdef…", or a low entropy estimate.
func secretWeakness(s string) string {
	distinct := map[rune]int{}
	n := 0
	for _, r := range s {
		distinct[r]++
		n++
	}
	switch {
	case len(distinct) < minSecretDistinct:
		return fmt.Sprintf("uses only %d different characters", len(distinct))
	case repeatsPattern(s):
		return "repeats a short pattern"
	case mostlyRuns(s):
		return "is mostly a run of consecutive characters"
	}
	bits := 0.0
	for _, c := range distinct {
		p := float64(c) / float64(n)
		bits -= float64(c) * math.Log2(p)
	}
	if bits < minSecretBits {
		return fmt.Sprintf("has an estimated entropy of %.0f bits (needs %d)", bits, minSecretBits)
	}
	return ""
}

// repeatsPattern reports whether s is a shorter string repeated (the last
// repetition may be cut short): "abcabcab".
func repeatsPattern(s string) bool {
	for p := 1; p <= len(s)/2; p++ {
		same := true
		for i := p; i < len(s); i++ {
			if s[i] != s[i-p] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// mostlyRuns reports whether more than half of s's neighbouring characters
// are consecutive ("0123456789abcdef", "zyxw") or equal.
func mostlyRuns(s string) bool {
	if len(s) < 2 {
		return false
	}
	runs := 0
	for i := 1; i < len(s); i++ {
		if d := int(s[i]) - int(s[i-1]); d >= -1 && d <= 1 {
			runs++
		}
	}
	return runs*2 > len(s)-1
}

// passwordWeakness says why an admin password is too weak for a shop that
// takes real payments, or returns "".
func passwordWeakness(p string) string {
	if len([]rune(p)) < minAdminPasswordLength {
		return fmt.Sprintf("needs at least %d characters", minAdminPasswordLength)
	}
	if strings.Count(p, p[:1]) == len(p) {
		return "is one character repeated"
	}
	lower := strings.ToLower(p)
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if commonPasswords[lower] || commonPasswords[core] || repeatsCommon(core) || repeatsCommon(lower) {
		return "is a commonly used password"
	}
	if mostlyRuns(lower) {
		return "is mostly a run of consecutive characters"
	}
	return ""
}

// repeatsCommon reports whether s is a common password written twice or
// more ("adminadmin", "qwertyqwertyqwerty").
func repeatsCommon(s string) bool {
	for p := 1; p <= len(s)/2; p++ {
		if len(s)%p == 0 && strings.Repeat(s[:p], len(s)/p) == s && commonPasswords[s[:p]] {
			return true
		}
	}
	return false
}
