/**
 * The stand-in for dockerode's transports we never load (ssh2, @grpc/grpc-js,
 * @grpc/proto-loader): see unused-transports.ts. CommonJS, as the modules that require it.
 * docker-modem reads `require('ssh2').Client` when it loads: that is a class that fails when
 * constructed; reading anything else fails at once.
 */
const WHY =
  "dockerode's SSH and BuildKit transports are not loaded: flant-gitops reaches the Docker " +
  'engine over its local Unix socket only';

const fail = (): never => {
  throw new Error(WHY);
};

class Client {
  constructor() {
    fail();
  }
}

// `module.exports`, not `export =`: Node's own type stripping (the tests) runs this file too.
module.exports = new Proxy<Record<string, unknown>>(
  {},
  {
    get: (_target, key) => {
      if (key === 'Client') return Client;
      if (typeof key === 'symbol' || key === '__esModule') return undefined;
      return fail();
    },
  },
);
