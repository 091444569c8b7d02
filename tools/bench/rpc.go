package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

// rpcStart is one start of a provider as the CLI starts it (go-plugin,
// protocol 6, automatic mTLS), timed from exec.
type rpcStart struct {
	handshake time.Duration // connected: the handshake line read, TLS done
	schema    time.Duration // the first GetProviderSchema answered
	bytes     int           // the size of that answer
}

// startRPC starts bin, asks for its schema and stops it. The answer is read
// into an empty message: its fields are kept unparsed, only its arrival and
// size matter.
func startRPC(bin string, env []string) (rpcStart, error) {
	cmd := exec.Command(bin)
	cmd.Env = slices.Clone(env)
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  6,
			MagicCookieKey:   "TF_PLUGIN_MAGIC_COOKIE",
			MagicCookieValue: magicCookie[len("TF_PLUGIN_MAGIC_COOKIE="):],
		},
		Plugins:          map[string]plugin.Plugin{},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.NewNullLogger(),
		SyncStdout:       io.Discard,
		SyncStderr:       io.Discard,
	})
	defer c.Kill()
	start := time.Now()
	cp, err := c.Client()
	if err != nil {
		return rpcStart{}, fmt.Errorf("starting %s: %w", bin, err)
	}
	var s rpcStart
	s.handshake = time.Since(start)
	g, ok := cp.(*plugin.GRPCClient)
	if !ok {
		return rpcStart{}, errors.New("the provider did not start a gRPC server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var answer emptypb.Empty
	if err := g.Conn.Invoke(ctx, "/tfplugin6.Provider/GetProviderSchema", &emptypb.Empty{}, &answer); err != nil {
		return rpcStart{}, fmt.Errorf("GetProviderSchema: %w", err)
	}
	s.schema = time.Since(start)
	s.bytes = proto.Size(&answer)
	return s, nil
}
