package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"tapwall/cmd/internal/control"
)

// defaultControlTimeout bounds a status or promote call: the control server answers at once even
// when the show's frames are frozen, so a longer wait means nothing is there.
const defaultControlTimeout = 5 * time.Second

// controlOpts are the flags that reach a show's control server.
type controlOpts struct {
	addr, token string
	timeout     time.Duration
}

func (c *cli) controlFlags(name, synopsis string) (*controlOpts, func([]string) error) {
	fs := c.newFlags(name, synopsis)
	o := &controlOpts{}
	fs.StringVar(&o.addr, "control", control.DefaultAddr, "the show's control server, HOST:PORT (its --control)")
	fs.StringVar(&o.token, "control-token", "", "the control server's token (its --control-token), when it has one")
	fs.DurationVar(&o.timeout, "timeout", defaultControlTimeout, "how long to wait for an answer")
	return o, func(args []string) error {
		if err := c.parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(c.stderr, "tapwall %s: unexpected argument %q\n", name, fs.Arg(0))
			return errExit{exitBad}
		}
		return nil
	}
}

// base returns the server's URL: http://ADDR, or ADDR as given when it has a scheme.
func (o *controlOpts) base() string {
	a := strings.TrimSuffix(o.addr, "/")
	if strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://") {
		return a
	}
	return "http://" + a
}

// call sends one request to the control server and returns the answer's status and body. Not
// reaching it at all is an error naming the address.
func (o *controlOpts) call(method, path string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, o.base()+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("--control %q: %w", o.addr, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, nil, fmt.Errorf("no answer from the control server at %s within %v (is the show frozen, or is this the right address?)", o.addr, o.timeout)
		}
		return 0, nil, fmt.Errorf("nothing answers at %s (is the show running with --control %s?): %w", o.addr, o.addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("reading the answer of %s: %w", o.addr, err)
	}
	return resp.StatusCode, b, nil
}

// refused turns a non-200 answer into an error an operator can act on.
func (o *controlOpts) refused(path string, code int, body []byte) error {
	var e struct{ Error, Message string }
	json.Unmarshal(body, &e)
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(body))
	}
	if code == http.StatusUnauthorized {
		return fmt.Errorf("the control server at %s wants its token: give --control-token T (%s)", o.addr, e.Message)
	}
	return fmt.Errorf("%s at %s: %d %s", path, o.addr, code, e.Message)
}

// printStatus gets /status and prints it as one line of JSON.
func (c *cli) printStatus(o *controlOpts) error {
	code, body, err := o.call(http.MethodGet, "/status", nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return o.refused("/status", code, body)
	}
	return c.printJSON(o, "/status", body)
}

// printJSON prints path's answer body (a Status: the server writes it as one line) as one line.
func (c *cli) printJSON(o *controlOpts, path string, body []byte) error {
	if !json.Valid(body) {
		return fmt.Errorf("%s at %s is not JSON: is this a tapwall control server? (%.80q)", path, o.addr, body)
	}
	fmt.Fprintln(c.stdout, string(bytes.TrimSpace(body)))
	return nil
}

// status is `tapwall status`: the show's /status on stdout.
func (c *cli) status(args []string) error {
	o, parse := c.controlFlags("status", "tapwall status [--control ADDR] [--control-token T]")
	if err := parse(args); err != nil {
		return err
	}
	return c.printStatus(o)
}

// promote is `tapwall promote`: promote the standby at --control to primary and print its new
// status (the answer of /promote, as `tapwall status` prints it).
func (c *cli) promote(args []string) error {
	o, parse := c.controlFlags("promote", "tapwall promote [--control ADDR] [--control-token T]")
	if err := parse(args); err != nil {
		return err
	}
	code, body, err := o.call(http.MethodPost, "/promote", []byte("{}"))
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return o.refused("/promote", code, body)
	}
	c.log.Info().Str("control", o.addr).Msg("promoted to primary")
	return c.printJSON(o, "/promote", body) // the new status
}
