package hub

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"tapwall/netsync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "scorehub test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestWSSWithItsOwnCertificate(t *testing.T) {
	cert, pool := selfSigned(t)
	st, err := OpenStore(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := NewHub(st, HubConfig{Token: "t", Log: zerolog.Nop()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Run(ctx)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: h.Handler(), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		ErrorLog: log.New(io.Discard, "", 0)} // the refused handshake below is expected
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	// The operator's way: the certificate in a PEM file given as --backend-ca.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644)
	tc, err := netsync.TLSWithCA(caFile)
	if err != nil || !tc.RootCAs.Equal(pool) {
		t.Fatalf("TLSWithCA: %v", err)
	}
	if _, err := netsync.TLSWithCA(filepath.Join(t.TempDir(), "none.pem")); err == nil {
		t.Fatal("a missing CA file must be an error")
	}
	c := startClient(t, "wss://"+ln.Addr().String()+"/ws", "secure", "t", t.TempDir(), func(cc *netsync.ClientConfig) {
		cc.TLS = tc
	})
	for s := uint64(1); s <= 50; s++ {
		c.outbox.Submit(genEvent("secure", 1, s))
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if left := c.outbox.WaitAcked(wctx); left != 0 {
		t.Fatalf("%d not acked over wss", left)
	}
	checkTotals(t, st, "secure", 1, 50)
	// Without the certificate trusted, the client refuses the backend.
	c2 := startClient(t, "wss://"+ln.Addr().String()+"/ws", "secure", "t", t.TempDir(), nil)
	waitFor(t, "a refused TLS handshake", 5*time.Second, func() bool {
		return strings.Contains(c2.client.Status().LastError, "certificate")
	})
}

// TestLivePageInHeadlessChromium loads the live page in Debian's chromium and checks that it
// shows the lane totals it received over its WebSocket.
func TestLivePageInHeadlessChromium(t *testing.T) {
	browser := ""
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no chromium installed (apt-get install chromium): the live page is not checked in a browser")
	}
	h := startHub(t, HubConfig{})
	c := startClient(t, h.url, "page-wall", "", t.TempDir(), nil)
	for s := uint64(1); s <= 40; s++ {
		c.outbox.Submit(genEvent("page-wall", 3, s))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.outbox.WaitAcked(ctx)
	want := wantTotals(40)
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", h.http+"/")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	for lane, score := range want {
		if !strings.Contains(dom, `data-lane`+strconv.Itoa(lane)+`="`+strconv.FormatInt(score, 10)+`"`) {
			t.Fatalf("the page does not show lane %d = %d:\n%s", lane, score, dom)
		}
	}
	if !strings.Contains(dom, "wall page-wall") || !strings.Contains(dom, ">live<") {
		t.Fatalf("page:\n%s", dom)
	}
	// A page WebSocket from another origin is refused.
	req, _ := http.NewRequest("GET", h.http+"/live", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Origin", "http://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin page socket: %v %v", err, resp.Status)
	}
}
