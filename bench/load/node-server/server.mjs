// Node.js comparator for bench/load: socket.io 4.8 implementing
// shared/docs/BENCH-CONTRACT.md with the same settings as examples/bench-server.
//
//   node bench/load/node-server/server.mjs --listen 127.0.0.1:PORT
//
// Prints PID=<pid> once listening; SIGTERM (or SIGINT) exits.
import { createServer } from "node:http";
import { Server } from "socket.io";

function parseListen(argv) {
  let listen = "127.0.0.1:3000";
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === "--listen" && i + 1 < argv.length) listen = argv[++i];
    else if (argv[i].startsWith("--listen=")) listen = argv[i].slice("--listen=".length);
    else {
      console.error(`usage: server.mjs --listen 127.0.0.1:PORT (unknown argument ${argv[i]})`);
      process.exit(2);
    }
  }
  const colon = listen.lastIndexOf(":");
  const host = listen.slice(0, colon);
  const port = Number(listen.slice(colon + 1));
  if (host !== "127.0.0.1" || !Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`--listen must be 127.0.0.1:PORT, got ${listen}`);
    process.exit(2);
  }
  return { host, port };
}

const { host, port } = parseListen(process.argv);

const httpServer = createServer((req, res) => {
  res.writeHead(404).end();
});

const io = new Server(httpServer, {
  transports: ["websocket"],
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
});

io.on("connection", (socket) => {
  socket.on("bench:broadcast", (payload) => {
    io.emit("tick", payload);
  });
  socket.on("echo", (payload, ack) => {
    if (typeof ack === "function") ack(payload);
  });
});

httpServer.on("error", (err) => {
  console.error(`listen failed: ${err.message}`);
  process.exit(1);
});

// The contract asks for a listen backlog of at least 128; 511 is Node's default.
httpServer.listen({ host, port, backlog: 511 }, () => {
  process.stdout.write(`PID=${process.pid}\n`);
  console.log(`socket.io (Node ${process.version}) listening on ${host}:${port}`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  // io.close() disconnects every socket and closes the HTTP server; do not wait
  // on lingering keep-alive sockets for longer than the contract's 5 s.
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
