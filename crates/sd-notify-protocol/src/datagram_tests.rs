//! The datagram plumbing's tests (a file of their own to keep datagram.rs short).

use std::os::fd::FromRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

use nix::sys::socket::UnixAddr;

use super::*;

fn no_setup(_: &OwnedFd) -> nix::Result<()> {
  Ok(())
}

fn send(socket: &DatagramSocket, path: &Path, text: &str) -> std::result::Result<usize, SendFailure> {
  let addr = UnixAddr::new(path).expect("a short path");
  socket.send(&addr, &[IoSlice::new(text.as_bytes())], &[], MsgFlags::MSG_DONTWAIT)
}

fn recv(receiver: &UnixDatagram) -> String {
  let mut buf = [0; 64];
  receiver.set_nonblocking(true).expect("nonblocking");
  let n = receiver.recv(&mut buf).expect("a datagram is waiting");
  String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// A private directory, removed when dropped.
struct Dir(std::path::PathBuf);

impl Drop for Dir {
  fn drop(&mut self) {
    let _ = std::fs::remove_dir_all(&self.0);
  }
}

fn dir() -> Dir {
  static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
  let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
  let path = std::env::temp_dir().join(format!("sdn-dgram-{}-{n}", std::process::id()));
  std::fs::create_dir_all(&path).expect("a temporary directory");
  Dir(path)
}

#[test]
fn sends_to_whichever_address_it_is_given_in_turn() {
  let (d, socket) = (dir(), DatagramSocket::new(no_setup));
  let (a, b) = (d.0.join("a"), d.0.join("b"));
  let (ra, rb) = (UnixDatagram::bind(&a).expect("bind a"), UnixDatagram::bind(&b).expect("bind b"));
  for i in 0..3 {
    send(&socket, &a, &format!("A{i}")).expect("sent to a");
    send(&socket, &b, &format!("B{i}")).expect("sent to b");
    send(&socket, &b, &format!("b{i}")).expect("sent to b again");
  }
  assert_eq!([recv(&ra), recv(&ra), recv(&ra)], ["A0", "A1", "A2"]);
  assert_eq!([recv(&rb), recv(&rb), recv(&rb), recv(&rb)], ["B0", "b0", "B1", "b1"]);
}

#[test]
fn a_receiver_recreated_at_the_same_path_gets_the_next_send() {
  let (d, socket) = (dir(), DatagramSocket::new(no_setup));
  let path = d.0.join("notify");
  let first = UnixDatagram::bind(&path).expect("bind");
  send(&socket, &path, "one").expect("sent");
  assert_eq!(recv(&first), "one");
  drop(first);
  std::fs::remove_file(&path).expect("unlink");
  let second = UnixDatagram::bind(&path).expect("bind again");
  send(&socket, &path, "two").expect("sent to the new receiver");
  assert_eq!(recv(&second), "two");
}

#[test]
fn a_closed_receiver_is_an_error_naming_its_errno_then_found_again_once_back() {
  let (d, socket) = (dir(), DatagramSocket::new(no_setup));
  let path = d.0.join("notify");
  let first = UnixDatagram::bind(&path).expect("bind");
  send(&socket, &path, "one").expect("sent");
  drop(first);
  // The path is still there, nobody listens: refused, as an unconnected send would be.
  assert_eq!(send(&socket, &path, "lost").map_err(|f| f.errno), Err(Errno::ECONNREFUSED));
  std::fs::remove_file(&path).expect("unlink");
  assert_eq!(send(&socket, &path, "lost").map_err(|f| f.errno), Err(Errno::ENOENT));
  let back = UnixDatagram::bind(&path).expect("bind again");
  send(&socket, &path, "three").expect("sent once it is back");
  assert_eq!(recv(&back), "three");
}

#[test]
fn descriptors_travel_over_the_connected_socket() {
  let (d, socket) = (dir(), DatagramSocket::new(no_setup));
  let path = d.0.join("notify");
  let receiver = UnixDatagram::bind(&path).expect("bind");
  let addr = UnixAddr::new(&path).expect("a short path");
  let file = std::fs::File::open("/dev/null").expect("/dev/null");
  for text in ["FDSTORE=1", "FDSTORE=1 again"] {
    socket.send(&addr, &[IoSlice::new(text.as_bytes())], &[file.as_raw_fd()], MsgFlags::empty()).expect("sent with a descriptor");
    let mut buf = [0u8; 64];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let msg = nix::sys::socket::recvmsg::<()>(receiver.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_DONTWAIT)
      .expect("received");
    let fds: Vec<RawFd> = msg
      .cmsgs()
      .expect("control messages")
      .filter_map(|c| match c {
        nix::sys::socket::ControlMessageOwned::ScmRights(fds) => Some(fds),
        _ => None,
      })
      .flatten()
      .collect();
    assert_eq!(fds.len(), 1, "one descriptor arrived with {text:?}");
    // SAFETY: the descriptor was just received and is ours to close.
    drop(unsafe { OwnedFd::from_raw_fd(fds[0]) });
  }
}

#[test]
fn a_sender_waiting_on_a_full_queue_does_not_hold_up_another_past_its_deadline() {
  let d = dir();
  let path = d.0.join("full");
  let _receiver = UnixDatagram::bind(&path).expect("bind");
  let socket: &'static DatagramSocket = Box::leak(Box::new(DatagramSocket::new(no_setup)));
  let addr = UnixAddr::new(&path).expect("a short path");
  // Fill the receiver's queue (it never reads).
  while socket.send(&addr, &[IoSlice::new(b"fill")], &[], MsgFlags::MSG_DONTWAIT).is_ok() {}
  let (tx, rx) = std::sync::mpsc::channel();
  let (long, tx2) = (addr, tx.clone());
  let a = std::thread::spawn(move || {
    let r = socket.send_until(&long, &[IoSlice::new(b"long")], &[], Duration::from_secs(3));
    tx2.send(("long", r.map_err(|f| f.errno))).unwrap();
  });
  std::thread::sleep(Duration::from_millis(50));
  let r = socket.send_until(&addr, &[IoSlice::new(b"short")], &[], Duration::from_millis(100));
  tx.send(("short", r.map_err(|f| f.errno))).unwrap();
  assert_eq!(rx.recv().unwrap(), ("short", Err(Errno::EAGAIN)), "the short wait ends first, at its own deadline");
  assert_eq!(rx.recv().unwrap(), ("long", Err(Errno::EAGAIN)));
  a.join().unwrap();
}
