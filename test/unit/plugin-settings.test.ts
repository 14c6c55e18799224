/**
 * The plugin process's own settings: where each comes from (mount option, registration args,
 * environment, default) and how a bad one is refused — naming the setting's sources and the rule.
 */
import { describe, expect, it } from 'vitest';
import { argValue, readPluginSettings } from '../../src/plugin/plugin-settings.js';

describe('plugin settings', () => {
  it('defaults: no webhook listener, 5 s tick, bridge network, the usual Docker socket', () => {
    expect(readPluginSettings([], {}, {})).toEqual({
      pipeline: 'on',
      webhookListen: undefined,
      tickSeconds: 5,
      containerNetwork: 'bridge',
      dockerSocket: '/var/run/docker.sock',
      gitSafeDirectories: [],
    });
  });

  it('git safe directories: a comma list from args or the environment, like the service', () => {
    const env = { FLANT_GITOPS_GIT_SAFE_DIRECTORIES: '/srv/a.git, /srv/b.git,' };
    expect(readPluginSettings([], env, {}).gitSafeDirectories).toEqual([
      '/srv/a.git',
      '/srv/b.git',
    ]);
    expect(readPluginSettings(['--git-safe-directory=*'], env, {}).gitSafeDirectories).toEqual([
      '*',
    ]);
    expect(() =>
      readPluginSettings([], { FLANT_GITOPS_GIT_SAFE_DIRECTORIES: 'relative/repo.git' }, {}),
    ).toThrow(/FLANT_GITOPS_GIT_SAFE_DIRECTORIES.*must be an absolute path or \*/);
  });

  it.each([
    [
      'mount option wins',
      { webhook_listen: '127.0.0.1:9001' },
      ['--webhook-listen=127.0.0.1:9002'],
      { FLANT_GITOPS_WEBHOOK_LISTEN: '127.0.0.1:9003' },
      9001,
    ],
    [
      'registration args next',
      {},
      ['--webhook-listen', '127.0.0.1:9002'],
      { FLANT_GITOPS_WEBHOOK_LISTEN: '127.0.0.1:9003' },
      9002,
    ],
    ['environment last', {}, [], { FLANT_GITOPS_WEBHOOK_LISTEN: '127.0.0.1:9003' }, 9003],
  ])('webhook address: %s', (_name, options, argv, env, port) => {
    expect(readPluginSettings(argv, env, options).webhookListen).toEqual({
      host: '127.0.0.1',
      port,
    });
  });

  it('args win over the environment for the other settings', () => {
    const s = readPluginSettings(
      ['--tick-seconds=2', '--container-network=host', '--docker-socket=/run/d.sock'],
      { FLANT_GITOPS_TICK_SECONDS: '9', FLANT_GITOPS_CONTAINER_NETWORK: 'none' },
      {},
    );
    expect(s).toMatchObject({
      tickSeconds: 2,
      containerNetwork: 'host',
      dockerSocket: '/run/d.sock',
    });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it.each([
    [{ webhook_listen: 'localhost' }, {}, /webhook_listen.*must be HOST:PORT/],
    [{}, { FLANT_GITOPS_PIPELINE: 'paused' }, /FLANT_GITOPS_PIPELINE: must be on or off/],
    [{}, { FLANT_GITOPS_TICK_SECONDS: '0' }, /FLANT_GITOPS_TICK_SECONDS: must be at least 1/],
    [
      {},
      { FLANT_GITOPS_CONTAINER_NETWORK: 'a b' },
      /FLANT_GITOPS_CONTAINER_NETWORK: must be a Docker network mode/,
    ],
  ])('refuses %j %j naming the source and the rule', (options, env, message) => {
    expect(() => readPluginSettings([], env, options)).toThrow(message);
  });

  it('reports every bad setting at once', () => {
    expect(() =>
      readPluginSettings([], { FLANT_GITOPS_TICK_SECONDS: '99' }, { webhook_listen: ':' }),
    ).toThrow(/webhook_listen.*; --tick-seconds/);
  });

  it('reads --name=value and --name value; a flag without a value is absent', () => {
    expect(argValue(['--a=1', '--b', '2', '--c'], 'a')).toBe('1');
    expect(argValue(['--a=1', '--b', '2', '--c'], 'b')).toBe('2');
    expect(argValue(['--a=1', '--b', '2', '--c'], 'c')).toBeUndefined();
  });
});
