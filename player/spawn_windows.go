//go:build windows

package player

import (
	"os/exec"
	"unsafe"

	"golang.org/x/sys/windows"
)

// spawn starts cmd so that it dies with us, and calls exited with Wait's result once it has
// exited and been reaped.
//
// Windows: the child is put in a job object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, whose only
// handle we hold until the child has exited: when watchparty ends, however it ends, Windows
// closes that handle and kills everything in the job (mpv, and what mpv started after it was
// assigned, such as yt-dlp). Best effort: when the job cannot be made or the child not
// assigned (a rare race with its exit), mpv runs without it and Close still stops it.
func spawn(cmd *exec.Cmd, exited func(error)) error {
	job := killOnCloseJob()
	if err := cmd.Start(); err != nil {
		if job != 0 {
			_ = windows.CloseHandle(job)
		}
		return err
	}
	if job != 0 {
		if h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(cmd.Process.Pid)); err == nil {
			_ = windows.AssignProcessToJobObject(job, h)
			_ = windows.CloseHandle(h)
		}
	}
	go func() {
		err := cmd.Wait()
		if job != 0 {
			_ = windows.CloseHandle(job) // kills what mpv left behind in the job
		}
		exited(err)
	}()
	return nil
}

// killOnCloseJob returns a new job object that kills its processes when its last handle
// closes, or 0 when Windows refuses one.
func killOnCloseJob() windows.Handle {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		_ = windows.CloseHandle(job)
		return 0
	}
	return job
}
