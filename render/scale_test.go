package render

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"tapwall/game"
	"tapwall/render/scene"
)

// TestScreenshotIsTheSameAtEveryScale draws the same scene at render.scale 0.5, auto and 1: the
// frames on the window are drawn at the configured scale (and reported so to the show), and the
// screenshot is drawn at scale 1, the same PNG byte for byte.
func TestScreenshotIsTheSameAtEveryScale(t *testing.T) {
	var shots [][]byte
	for _, scale := range []string{"0.5", "\"auto\"", "1"} {
		cfg := parseCfg(t, "[round]\ncountdown_seconds = 0\n[render]\nscale = "+scale+"\n")
		r, _ := game.NewRound(cfg, game.RoundParams{Wall: "w", Round: 1, Seed: 9, Running: true})
		bot := game.NewBot(cfg, 9)
		var in []game.Input
		for i := 0; i < 400; i++ {
			in = bot.Inputs(r, in[:0])
			r.Step(in)
		}
		a, d := newTestApp(t, cfg)
		d.sc = scene.Scene{Config: cfg, Round: r, Frac: 0.25}
		var screen *ebiten.Image
		onFrame(func(*ebiten.Image) { screen = ebiten.NewImage(960, 480) })
		for i := 0; i < 3; i++ {
			onFrame(func(*ebiten.Image) { a.Draw(screen) })
		}
		want := 1.0
		if scale == "0.5" {
			want = 0.5
		}
		if d.scale != want {
			t.Errorf("scale %s: frames drawn at %v, want %v", scale, d.scale, want)
		}
		d.shot = filepath.Join(t.TempDir(), "shot.png")
		d.sc.Frac = 0 // a screenshot is the state after its tick
		onFrame(func(*ebiten.Image) { a.Draw(screen) })
		if d.scale != 1 {
			t.Errorf("scale %s: the screenshot was drawn at %v", scale, d.scale)
		}
		b, err := os.ReadFile(d.shot)
		if err != nil {
			t.Fatal(err)
		}
		shots = append(shots, b)
	}
	for i := 1; i < len(shots); i++ {
		if !bytes.Equal(shots[0], shots[i]) {
			t.Errorf("the screenshot at the %d-th scale differs from the one at scale 0.5", i+1)
		}
	}
}

// TestHalfScaleDrawsHalfTheWall: at render.scale 0.5 the wall is drawn into an image of half the
// window's size and scaled up to fill it.
func TestHalfScaleDrawsHalfTheWall(t *testing.T) {
	cfg := parseCfg(t, "[render]\nscale = 0.5\n")
	a, d := newTestApp(t, cfg)
	d.sc = scene.Scene{Config: cfg}
	onFrame(func(*ebiten.Image) {
		screen := ebiten.NewImage(800, 400)
		a.Draw(screen)
		if a.off == nil || a.off.Bounds().Dx() != 400 || a.off.Bounds().Dy() != 200 {
			t.Errorf("offscreen image %v, want 400x200", a.off)
		}
		if a.lay.W != 400 || a.lay.H != 200 {
			t.Errorf("laid out for %dx%d, want 400x200", a.lay.W, a.lay.H)
		}
		// The wall fills the window: the divider between lanes 2 and 3 is in the middle of it.
		if c := screen.At(400, 200); c == screen.At(300, 200) {
			t.Errorf("no divider in the middle of the upscaled wall: %v", c)
		}
	})
}

// TestScreenshotOfAMinimisedWindowFails: a screenshot due while the window is minimised (a screen
// of no pixels) is reported to the show as failed, not drawn into an image of no size (which
// panics), and no file is written.
func TestScreenshotOfAMinimisedWindowFails(t *testing.T) {
	cfg := parseCfg(t, "")
	a, d := newTestApp(t, cfg)
	d.shot = filepath.Join(t.TempDir(), "shot.png")
	onFrame(func(*ebiten.Image) {
		full := ebiten.NewImage(64, 32)
		defer full.Deallocate()
		a.Draw(full.SubImage(image.Rect(0, 0, 0, 0)).(*ebiten.Image))
	})
	if d.drawn != 1 || d.err == nil || !strings.Contains(d.err.Error(), "minimised") {
		t.Fatalf("after %d frames the show was told %v, want the screenshot's failure (minimised)", d.drawn, d.err)
	}
	if _, err := os.Stat(d.shot); !os.IsNotExist(err) {
		t.Fatalf("a screenshot file was written for a minimised window (%v)", err)
	}
}

// TestAutoScaleFollowsTheFrameTime feeds frame times to the auto scaler: frames over budget lower
// the scale step by step down to MinScale, calm frames raise it back to 1, and a raise that does
// not hold makes the next one wait twice as long.
func TestAutoScaleFollowsTheFrameTime(t *testing.T) {
	s := newScaler(game.RenderConfig{MinFPS: 50, Scale: game.Scale{Auto: true}})
	now := int64(1)
	run := func(frames int, dt int64) float64 {
		var sc float64
		for i := 0; i < frames; i++ {
			now += dt
			sc = s.frame(now)
		}
		return sc
	}
	if sc := run(100, 16_000); sc != 1 {
		t.Fatalf("60 FPS against a 50 FPS budget: scale %v, want 1", sc)
	}
	prev := 1.0
	for step := 0; step < 10; step++ { // 25 FPS: every window of 30 frames lowers one step
		sc := run(autoWindow, 40_000)
		if sc >= prev && prev > MinScale {
			t.Fatalf("step %d: slow frames left the scale at %v", step, sc)
		}
		if sc < MinScale {
			t.Fatalf("scale %v below MinScale", sc)
		}
		prev = sc
	}
	if prev != MinScale {
		t.Fatalf("after 10 slow windows the scale is %v, want %v", prev, MinScale)
	}
	if sc := run(autoCalmFrames-1, 10_000); sc != MinScale {
		t.Fatalf("raised after %d calm frames: %v", autoCalmFrames-1, sc)
	}
	if sc := run(1, 10_000); sc <= MinScale {
		t.Fatalf("not raised after %d calm frames: %v", autoCalmFrames, sc)
	}
	// That raise does not hold: lowered again, the next raise needs twice the calm.
	raised := run(autoWindow, 40_000)
	if raised > MinScale/autoStep*autoStep+1e-9 {
		t.Fatalf("slow frames after a raise left the scale at %v", raised)
	}
	if sc := run(2*autoCalmFrames-1, 10_000); sc != raised {
		t.Fatalf("raised again after %d calm frames, want %d", 2*autoCalmFrames-1, 2*autoCalmFrames)
	}
	if sc := run(1, 10_000); sc <= raised {
		t.Fatalf("not raised after %d calm frames", 2*autoCalmFrames)
	}
	for i := 0; i < 20; i++ {
		run(16*autoCalmFrames, 10_000)
	}
	if sc := s.frame(now + 10_000); sc != 1 {
		t.Fatalf("calm for long: scale %v, want 1", sc)
	}
	fixed := newScaler(game.RenderConfig{MinFPS: 50, Scale: game.Scale{Fixed: 0.5}})
	for i := 0; i < 100; i++ {
		if sc := fixed.frame(int64(i) * 100_000); sc != 0.5 {
			t.Fatalf("a fixed scale of 0.5 moved to %v", sc)
		}
	}
}
