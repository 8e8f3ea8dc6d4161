import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeArg, parseInfo, parseMapList, parseServersState, parseStat } from './runtime-api.js';

describe('HAProxy runtime API parsing', () => {
  it('reads server rows of show stat by column name, skipping FRONTEND and BACKEND rows', () => {
    const text = [
      '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,rtime,ttime,addr,',
      'be_web,s1,1,0,3,9,,120,0,0,,0,,2,1,4,5,DRAIN,37,0,100,2,3,7,12,30,127.0.0.1:4000,',
      'be_web,BACKEND,0,0,3,9,,120,0,0,,0,,2,1,4,5,UP,37,0,100,2,3,7,12,30,,',
      '',
    ].join('\n');
    assert.deepEqual(parseStat(text), [
      {
        backend: 'be_web',
        server: 's1',
        queued: 1,
        current: 3,
        total: 120,
        status: 'DRAIN',
        weight: 37,
        responses1xx: 0,
        responses2xx: 100,
        responses3xx: 2,
        responses4xx: 3,
        responses5xx: 7,
        connectionErrors: 2,
        responseErrors: 1,
        retries: 4,
        redispatches: 5,
        avgResponseTimeMs: 12,
        avgTotalTimeMs: 30,
        address: '127.0.0.1:4000',
      },
    ]);
  });

  it('reads show servers state, show info and show map', () => {
    const state =
      '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port\n3 be_web 1 s1 127.0.0.1 0 5 1 1 4 1 0 0 8 0 0 0 - 4000\n';
    assert.deepEqual(parseServersState(state), [{ backend: 'be_web', server: 's1', address: '127.0.0.1', port: 4000, adminState: 5, weight: 1 }]);
    assert.equal(parseInfo('Name: HAProxy\nPid: 4242\n')['Pid'], '4242');
    assert.deepEqual(parseMapList("# id (file) description\n2 (/etc/haproxy/a.map) pattern loaded from file '/etc/haproxy/a.map'\n"), [
      { id: 2, file: '/etc/haproxy/a.map' },
    ]);
  });

  it('escapes spaces, semicolons and backslashes in command arguments', () => {
    assert.equal(escapeArg('a b;c\\d'), 'a\\ b\\;c\\\\d');
  });
});
