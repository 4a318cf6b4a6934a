package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// newFastHTTPServer returns the bare-fasthttp baseline: fasthttp answering
// every request with the GIF and the pixel's headers, with the limits
// admeter's --pixel-addr listener has (collect/fastcollect), so that the
// difference between the two is admeter's own work.
func newFastHTTPServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.Response.Header.SetContentType("image/gif")
			ctx.Response.Header.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
			ctx.Response.SetBodyRaw(gif)
		},
		ReadTimeout:                  10 * time.Second,
		WriteTimeout:                 30 * time.Second,
		IdleTimeout:                  120 * time.Second,
		ReadBufferSize:               16 << 10,
		MaxRequestBodySize:           64 << 10,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		DisablePreParseMultipartForm: true,
		SecureErrorLogMessage:        true,
	}
}

// serveFastHTTP serves the bare-fasthttp baseline on addr until ctx ends.
func serveFastHTTP(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := newFastHTTPServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.ShutdownWithContext(sctx); err != nil {
			return fmt.Errorf("shut down: %w", err)
		}
		return <-served
	}
}
