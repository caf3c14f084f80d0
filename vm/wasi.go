package vm

import (
	"encoding/binary"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// The deterministic WASI subset Go's wasip1 runtime imports: no files, no
// environment, no real clock (block time), no real randomness (the call's
// deterministic stream), stdout/stderr into a bounded log, proc_exit ends the
// call, a sleep returns at once with the monotonic clock advanced by its
// timeout. Everything else answers a fixed errno.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoInval   = 28
	errnoNosys   = 52
)

func errno(code uint64) func(*callState, api.Module, []uint64) {
	return func(_ *callState, _ api.Module, s []uint64) { s[0] = code }
}

func wasiFuncs() []hostFn {
	fd := func(name string, params ...api.ValueType) hostFn {
		return hostFn{name, params, sig(i32), errno(errnoBadf)}
	}
	nosys := func(name string, params ...api.ValueType) hostFn {
		return hostFn{name, params, sig(i32), errno(errnoNosys)}
	}
	return []hostFn{
		{"args_sizes_get", sig(i32, i32), sig(i32), zeroSizes},
		{"environ_sizes_get", sig(i32, i32), sig(i32), zeroSizes},
		{"args_get", sig(i32, i32), sig(i32), errno(errnoSuccess)},
		{"environ_get", sig(i32, i32), sig(i32), errno(errnoSuccess)},
		{"clock_time_get", sig(i32, i64, i32), sig(i32), clockTimeGet},
		{"clock_res_get", sig(i32, i32), sig(i32), func(st *callState, mod api.Module, s []uint64) {
			st.write(mod, uint32(s[1]), binary.LittleEndian.AppendUint64(nil, 1))
			s[0] = errnoSuccess
		}},
		{"random_get", sig(i32, i32), sig(i32), func(st *callState, mod api.Module, s []uint64) {
			n := uint32(s[1])
			if n > 1<<16 {
				s[0] = errnoInval
				return
			}
			b := make([]byte, n)
			_, _ = st.random().Read(b)
			st.write(mod, uint32(s[0]), b)
			s[0] = errnoSuccess
		}},
		{"fd_write", sig(i32, i32, i32, i32), sig(i32), fdWrite},
		{"proc_exit", sig(i32), nil, func(st *callState, _ api.Module, s []uint64) {
			// Not st.fail: the exit code and log make the error in classify.
			panic(sys.NewExitError(uint32(s[0])))
		}},
		{"sched_yield", nil, sig(i32), errno(errnoSuccess)},
		{"poll_oneoff", sig(i32, i32, i32, i32), sig(i32), pollOneoff},
		fd("fd_close", i32),
		fd("fd_fdstat_get", i32, i32),
		fd("fd_fdstat_set_flags", i32, i32),
		fd("fd_fdstat_set_rights", i32, i64, i64),
		fd("fd_filestat_get", i32, i32),
		fd("fd_filestat_set_size", i32, i64),
		fd("fd_pread", i32, i32, i32, i64, i32),
		fd("fd_prestat_get", i32, i32),
		fd("fd_prestat_dir_name", i32, i32, i32),
		fd("fd_pwrite", i32, i32, i32, i64, i32),
		fd("fd_read", i32, i32, i32, i32),
		fd("fd_readdir", i32, i32, i32, i64, i32),
		fd("fd_seek", i32, i64, i32, i32),
		fd("fd_sync", i32),
		nosys("path_create_directory", i32, i32, i32),
		nosys("path_filestat_get", i32, i32, i32, i32, i32),
		nosys("path_filestat_set_times", i32, i32, i32, i32, i64, i64, i32),
		nosys("path_link", i32, i32, i32, i32, i32, i32, i32),
		nosys("path_open", i32, i32, i32, i32, i32, i64, i64, i32, i32),
		nosys("path_readlink", i32, i32, i32, i32, i32, i32),
		nosys("path_remove_directory", i32, i32, i32),
		nosys("path_rename", i32, i32, i32, i32, i32, i32),
		nosys("path_symlink", i32, i32, i32, i32, i32),
		nosys("path_unlink_file", i32, i32, i32),
		nosys("sock_accept", i32, i32, i32),
		nosys("sock_shutdown", i32, i32),
	}
}

func zeroSizes(st *callState, mod api.Module, s []uint64) {
	st.write(mod, uint32(s[0]), make([]byte, 4))
	st.write(mod, uint32(s[1]), make([]byte, 4))
	s[0] = errnoSuccess
}

// clockTimeGet answers block time for every clock; the monotonic clock also
// advances by one nanosecond per reading so loops waiting on it progress.
func clockTimeGet(st *callState, mod api.Module, s []uint64) {
	t := st.call.Time
	if uint32(s[0]) != 0 { // not CLOCK_REALTIME
		st.ticks++
		t += st.ticks
	}
	st.write(mod, uint32(s[2]), binary.LittleEndian.AppendUint64(nil, uint64(t)))
	s[0] = errnoSuccess
}

// fdWrite captures stdout and stderr into the call's bounded log.
func fdWrite(st *callState, mod api.Module, s []uint64) {
	fd, iovs, n, out := uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])
	if fd != 1 && fd != 2 {
		s[0] = errnoBadf
		return
	}
	if n > 1024 {
		s[0] = errnoInval
		return
	}
	vec := st.read(mod, iovs, n*8)
	var total uint32
	for k := uint32(0); k < n; k++ {
		p := binary.LittleEndian.Uint32(vec[k*8:])
		l := binary.LittleEndian.Uint32(vec[k*8+4:])
		st.appendLog(st.read(mod, p, l))
		total += l
	}
	st.write(mod, out, binary.LittleEndian.AppendUint32(nil, total))
	s[0] = errnoSuccess
}

// pollOneoff answers every subscription at once: clock subscriptions fire
// (the monotonic clock jumps to their deadline, so sleeps end and time
// moves deterministically), fd subscriptions fail with EBADF.
func pollOneoff(st *callState, mod api.Module, s []uint64) {
	in, out, n, nout := uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])
	if n == 0 || n > 64 {
		s[0] = errnoInval
		return
	}
	subs := st.read(mod, in, n*48)
	events := make([]byte, 0, n*32)
	for k := uint32(0); k < n; k++ {
		sub := subs[k*48:]
		tag := sub[8]
		errCode := uint16(errnoBadf)
		if tag == 0 { // clock
			errCode = errnoSuccess
			timeout := binary.LittleEndian.Uint64(sub[24:])
			if binary.LittleEndian.Uint16(sub[40:])&1 == 0 { // relative
				st.ticks += int64(min(timeout, 1<<62))
			} else if t := int64(min(timeout, 1<<62)); t > st.call.Time+st.ticks {
				st.ticks = t - st.call.Time
			}
		}
		ev := make([]byte, 32)
		copy(ev, sub[:8]) // userdata
		binary.LittleEndian.PutUint16(ev[8:], errCode)
		ev[10] = tag
		events = append(events, ev...)
	}
	st.write(mod, out, events)
	st.write(mod, nout, binary.LittleEndian.AppendUint32(nil, n))
	s[0] = errnoSuccess
}
