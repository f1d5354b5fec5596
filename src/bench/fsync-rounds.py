#!/usr/bin/env python3
"""Cost of one spool commit's syncs on this disk: one fdatasync, rename + directory fsync, the three
syncs of a commit in one round and in two rounds, and a Postfix-like new file + fsync + rename.
usage: python3 src/bench/fsync-rounds.py (scratch files in /tmp/postern-bench/fsync-rounds, on the spool's disk here)."""
import os, time, threading, statistics, concurrent.futures as cf
d='/tmp/postern-bench/fsync-rounds'; os.makedirs(d, exist_ok=True); N=300
data=b'x'*10240; env=b'y'*500
pool=cf.ThreadPoolExecutor(4)
def one():
    fd=os.open(d+'/a',os.O_WRONLY|os.O_CREAT); t=time.perf_counter()
    os.pwrite(fd,data,0); os.fdatasync(fd); os.close(fd); return time.perf_counter()-t
def one_new():
    t=time.perf_counter(); fd=os.open(d+'/n.tmp',os.O_WRONLY|os.O_CREAT|os.O_TRUNC)
    os.write(fd,data); os.fdatasync(fd); os.close(fd); os.rename(d+'/n.tmp',d+'/n'); return time.perf_counter()-t
def three(i):
    fa=os.open(d+'/D',os.O_WRONLY|os.O_CREAT); fb=os.open(d+'/T',os.O_WRONLY|os.O_CREAT); dd=os.open(d,os.O_RDONLY)
    t=time.perf_counter()
    os.pwrite(fa,data,0); os.pwrite(fb,env,0); os.rename(d+'/T',d+'/H'); os.rename(d+'/H',d+'/T')
    fs=[pool.submit(os.fdatasync,fa),pool.submit(os.fdatasync,fb)]; os.fsync(dd); [f.result() for f in fs]
    r=time.perf_counter()-t; os.close(fa); os.close(fb); os.close(dd); return r
def two_rounds(i):
    fa=os.open(d+'/D',os.O_WRONLY|os.O_CREAT); fb=os.open(d+'/T',os.O_WRONLY|os.O_CREAT); dd=os.open(d,os.O_RDONLY)
    t=time.perf_counter()
    os.pwrite(fa,data,0); os.pwrite(fb,env,0)
    fs=[pool.submit(os.fdatasync,fa)]; os.fdatasync(fb); [f.result() for f in fs]
    os.rename(d+'/T',d+'/H'); os.rename(d+'/H',d+'/T'); os.fsync(dd)
    r=time.perf_counter()-t; os.close(fa); os.close(fb); os.close(dd); return r
def dironly(i):
    dd=os.open(d,os.O_RDONLY); t=time.perf_counter(); os.rename(d+'/T',d+'/H'); os.rename(d+'/H',d+'/T'); os.fsync(dd); r=time.perf_counter()-t; os.close(dd); return r
open(d+'/T','wb').close()
for name,f in [('1 fdatasync overwrite',lambda i: one()),('postfix-like new file+rename',lambda i: one_new()),('3 in one round',three),('2 rounds',two_rounds),('rename+dir fsync',dironly)]*2:
    s=[f(i) for i in range(N)]
    print('%-30s p50 %6.0f us  mean %6.0f us'%(name,statistics.median(s)*1e6,statistics.mean(s)*1e6))
