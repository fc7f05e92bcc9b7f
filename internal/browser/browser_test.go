package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestPageEvalClickAndTransparentScreenshot serves a page on loopback, clicks its button through
// JavaScript, reads the DOM back, and checks that a page with no background screenshots transparent
// while one with a background does not.
func TestPageEvalClickAndTransparentScreenshot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Start(ctx)
	if errors.Is(err, ErrNoBrowser) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bg := ""
		if r.URL.Query().Get("bg") != "" {
			bg = "background:#204080"
		}
		fmt.Fprintf(w, `<html><body style="margin:0;%s"><button id=b onclick="this.textContent='clicked'">press</button>
<div style="position:absolute;left:100px;top:100px;width:50px;height:50px;background:#ff0000"></div></body></html>`, bg)
	}))
	defer srv.Close()
	p, err := b.Open(ctx, srv.URL, 320, 200, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(ctx, `document.getElementById("b").click()`, nil); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := p.Eval(ctx, `document.getElementById("b").textContent`, &text); err != nil || text != "clicked" {
		t.Fatalf("button text %q after the click (%v)", text, err)
	}
	shot, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 320 || img.Bounds().Dy() != 200 {
		t.Fatalf("screenshot is %v, want 320x200", img.Bounds())
	}
	if _, _, _, a := img.At(300, 190).RGBA(); a != 0 {
		t.Fatalf("an empty corner has alpha %d: the background is not transparent", a>>8)
	}
	if r, g, _, a := img.At(120, 120).RGBA(); a>>8 != 255 || r>>8 < 200 || g>>8 > 50 {
		t.Fatalf("the red square reads %d,%d alpha %d", r>>8, g>>8, a>>8)
	}
	p2, err := b.Open(ctx, srv.URL+"?bg=1", 320, 200, true)
	if err != nil {
		t.Fatal(err)
	}
	shot, _ = p2.Screenshot(ctx)
	img, _ = png.Decode(bytes.NewReader(shot))
	if _, _, _, a := img.At(300, 190).RGBA(); a>>8 != 255 {
		t.Fatalf("a page with a background has alpha %d in its corner", a>>8)
	}
}
