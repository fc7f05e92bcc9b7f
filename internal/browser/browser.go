// Package browser drives Debian's headless Chromium for the tests and scripts that check tapwall's
// web pages (the operator console, scorehub's live, overlay and director pages) in a real browser:
// it starts Chromium, opens pages, evaluates JavaScript in them (to read the DOM or click a button)
// and takes screenshots, over the DevTools protocol on a loopback WebSocket.
//
// A Browser is safe for use by one goroutine at a time.
package browser

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ErrNoBrowser is returned by Start when no Chromium is installed; tests skip and say so.
var ErrNoBrowser = errors.New("browser: no chromium installed (apt-get install chromium, or scripts/setup.sh)")

// Find returns the path of an installed Chromium, or "".
func Find() string {
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			return p
		}
	}
	return ""
}

// Flags are the flags every run uses: headless, no sandbox (root in CI), and nothing that reaches
// for the network (the machines have none, and each attempt costs time).
var Flags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
	"--mute-audio", "--remote-debugging-port=0"}

// Browser is a running headless Chromium.
type Browser struct {
	cmd     *exec.Cmd
	conn    *websocket.Conn
	dataDir string
	mu      sync.Mutex
	nextID  int64
	waiting map[int64]chan reply
	readErr error
	done    chan struct{}
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Start launches Chromium and connects to it. Close it when done.
func Start(ctx context.Context) (*Browser, error) {
	path := Find()
	if path == "" {
		return nil, ErrNoBrowser
	}
	dir, err := os.MkdirTemp("", "tapwall-chromium-")
	if err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	cmd := exec.Command(path, append(Flags, "--user-data-dir="+dir, "about:blank")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("browser: %w", err)
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("browser: start %s: %w", path, err)
	}
	b := &Browser{cmd: cmd, dataDir: dir, waiting: map[int64]chan reply{}, done: make(chan struct{})}
	urlc := make(chan string, 1)
	go func() { // Chromium prints the DevTools address on stderr; the rest is drained and dropped
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "DevTools listening on "); ok {
				select {
				case urlc <- strings.TrimSpace(u):
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	var wsURL string
	select {
	case wsURL = <-urlc:
	case <-ctx.Done():
		b.Close()
		return nil, fmt.Errorf("browser: chromium did not start: %w", ctx.Err())
	case <-time.After(30 * time.Second):
		b.Close()
		return nil, errors.New("browser: chromium printed no DevTools address within 30 s")
	}
	b.conn, _, err = websocket.DefaultDialer.DialContext(ctx, wsURL, nil)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("browser: connect to %s: %w", wsURL, err)
	}
	b.conn.SetReadLimit(256 << 20) // screenshots arrive base64 in one message
	go b.read()
	return b, nil
}

func (b *Browser) read() {
	defer close(b.done)
	for {
		_, data, err := b.conn.ReadMessage()
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			for id, ch := range b.waiting {
				close(ch)
				delete(b.waiting, id)
			}
			b.mu.Unlock()
			return
		}
		var m struct {
			ID int64 `json:"id"`
			reply
		}
		if json.Unmarshal(data, &m) != nil || m.ID == 0 {
			continue // an event: not used
		}
		b.mu.Lock()
		ch := b.waiting[m.ID]
		delete(b.waiting, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.reply
		}
	}
}

// call sends one DevTools command (to a page's session when session is set) and waits for its result.
func (b *Browser) call(ctx context.Context, session, method string, params any, result any) error {
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return fmt.Errorf("browser: connection lost: %w", b.readErr)
	}
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.waiting[id] = ch
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	err := b.conn.WriteJSON(msg)
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("browser: %s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("browser: %s: connection lost", method)
		}
		if r.Error != nil {
			return fmt.Errorf("browser: %s: %s", method, r.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(r.Result, result)
		}
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.waiting, id)
		b.mu.Unlock()
		return fmt.Errorf("browser: %s: %w", method, ctx.Err())
	}
}

// Page is one open tab.
type Page struct {
	b       *Browser
	session string
}

// Open opens url in a new tab of width x height CSS pixels; transparent makes the page's default
// background transparent (a page without its own background then screenshots with alpha 0). It
// returns once the page has loaded.
func (b *Browser) Open(ctx context.Context, url string, width, height int, transparent bool) (*Page, error) {
	var t struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &t); err != nil {
		return nil, err
	}
	var s struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": t.TargetID, "flatten": true}, &s); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: s.SessionID}
	if err := b.call(ctx, p.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		return nil, err
	}
	if transparent {
		if err := b.call(ctx, p.session, "Emulation.setDefaultBackgroundColorOverride",
			map[string]any{"color": map[string]any{"r": 0, "g": 0, "b": 0, "a": 0}}, nil); err != nil {
			return nil, err
		}
	}
	if err := b.call(ctx, p.session, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		return nil, err
	}
	// Wait for the document to finish loading.
	err := p.WaitFor(ctx, `document.readyState === "complete"`)
	return p, err
}

// Eval evaluates a JavaScript expression in the page (promises are awaited) and unmarshals its
// value into result (nil: ignored). A thrown exception is an error.
func (p *Page) Eval(ctx context.Context, expr string, result any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := p.b.call(ctx, p.session, "Runtime.evaluate",
		map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("browser: %s: %s %s", expr, r.Exception.Text, r.Exception.Exception.Description)
	}
	if result != nil && len(r.Result.Value) > 0 {
		return json.Unmarshal(r.Result.Value, result)
	}
	return nil
}

// WaitFor evaluates a boolean JavaScript expression every 50 ms until it is true or ctx ends.
func (p *Page) WaitFor(ctx context.Context, expr string) error {
	for {
		var ok bool
		err := p.Eval(ctx, "!!("+expr+")", &ok)
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("browser: waiting for %s: %w (last: %v)", expr, ctx.Err(), err)
			}
			return fmt.Errorf("browser: waiting for %s: %w", expr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitOrText is WaitFor for at most d. Its error carries the page's text (document.body.innerText):
// what a test that fails on a page wants to show.
func (p *Page) WaitOrText(ctx context.Context, expr string, d time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := p.WaitFor(wctx, expr)
	if err == nil {
		return nil
	}
	var text string
	if terr := p.Eval(ctx, `document.body.innerText`, &text); terr != nil {
		text = "(unreadable: " + terr.Error() + ")"
	}
	return fmt.Errorf("%w\npage text:\n%s", err, text)
}

// Screenshot returns the page's viewport as PNG bytes.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := p.b.call(ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// Close ends Chromium and removes its profile.
func (b *Browser) Close() error {
	if b.conn != nil {
		b.conn.Close()
		<-b.done
	}
	if b.cmd.Process != nil {
		b.cmd.Process.Kill()
		b.cmd.Wait()
	}
	return os.RemoveAll(b.dataDir)
}
