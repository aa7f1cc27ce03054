// DigestPeer: the JDK's DIGEST-MD5 (javax.security.sasl) as an interop peer for sealstream-sasl.
//
// java DigestPeer server <qop> <cipher|-> <maxbuf> <length>   listens on 127.0.0.1, prints "PORT n"
// java DigestPeer client <qop> <cipher|-> <maxbuf> <length> <port>
//
// The SASL exchange travels as messages of a 4-byte big-endian length then the bytes: the server's
// challenge, the client's response, the server's rspauth. Then, through the negotiated layer
// (RFC 4422 frames), the peer reads <length> bytes, checks no frame exceeded its maxbuf, and sends
// the same bytes back wrapped, cut to the other side's maxbuf (the JDK does not do that itself).
// Credentials: user "chris", password "secret", service "ldap", host and realm "localhost".

import java.io.*;
import java.net.*;
import java.util.*;
import javax.security.auth.callback.*;
import javax.security.sasl.*;

public class DigestPeer {
    static void writeMsg(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
        out.flush();
    }

    static byte[] readMsg(DataInputStream in) throws IOException {
        int n = in.readInt();
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    static CallbackHandler handler() {
        return callbacks -> {
            for (Callback cb : callbacks) {
                if (cb instanceof NameCallback) {
                    ((NameCallback) cb).setName("chris");
                } else if (cb instanceof PasswordCallback) {
                    ((PasswordCallback) cb).setPassword("secret".toCharArray());
                } else if (cb instanceof RealmCallback) {
                    RealmCallback rc = (RealmCallback) cb;
                    rc.setText(rc.getDefaultText() != null ? rc.getDefaultText() : "localhost");
                } else if (cb instanceof RealmChoiceCallback) {
                    ((RealmChoiceCallback) cb).setSelectedIndex(0);
                } else if (cb instanceof AuthorizeCallback) {
                    AuthorizeCallback ac = (AuthorizeCallback) cb;
                    ac.setAuthorized(ac.getAuthenticationID().equals(ac.getAuthorizationID()));
                } else {
                    throw new UnsupportedCallbackException(cb);
                }
            }
        };
    }

    interface Layer {
        byte[] wrap(byte[] b, int off, int len) throws SaslException;
        byte[] unwrap(byte[] b, int off, int len) throws SaslException;
        Object prop(String name);
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0], qop = args[1], cipher = args[2];
        int maxbuf = Integer.parseInt(args[3]);
        int length = Integer.parseInt(args[4]);
        Map<String, Object> props = new HashMap<>();
        props.put(Sasl.QOP, qop);
        props.put(Sasl.STRENGTH, "high,medium,low");
        props.put(Sasl.MAX_BUFFER, Integer.toString(maxbuf));
        if (!cipher.equals("-")) {
            props.put("com.sun.security.sasl.digest.cipher", cipher);
        }
        Socket socket;
        Layer layer;
        if (mode.equals("server")) {
            ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            System.out.println("PORT " + listener.getLocalPort());
            System.out.flush();
            socket = listener.accept();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            SaslServer ss = Sasl.createSaslServer("DIGEST-MD5", "ldap", "localhost", props, handler());
            writeMsg(out, ss.evaluateResponse(new byte[0]));
            byte[] rspauth = ss.evaluateResponse(readMsg(in));
            if (!ss.isComplete()) throw new IllegalStateException("server not complete");
            writeMsg(out, rspauth);
            System.err.println("JDK server negotiated " + ss.getNegotiatedProperty(Sasl.QOP));
            layer = new Layer() {
                public byte[] wrap(byte[] b, int o, int l) throws SaslException { return ss.wrap(b, o, l); }
                public byte[] unwrap(byte[] b, int o, int l) throws SaslException { return ss.unwrap(b, o, l); }
                public Object prop(String n) { return ss.getNegotiatedProperty(n); }
            };
        } else {
            socket = new Socket(InetAddress.getLoopbackAddress(), Integer.parseInt(args[5]));
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            SaslClient sc = Sasl.createSaslClient(new String[] {"DIGEST-MD5"}, null, "ldap", "localhost", props, handler());
            writeMsg(out, sc.evaluateChallenge(readMsg(in)));
            byte[] last = sc.evaluateChallenge(readMsg(in)); // rspauth, verified by the JDK
            if (!sc.isComplete() || (last != null && last.length != 0)) throw new IllegalStateException("client not complete");
            System.err.println("JDK client negotiated " + sc.getNegotiatedProperty(Sasl.QOP));
            layer = new Layer() {
                public byte[] wrap(byte[] b, int o, int l) throws SaslException { return sc.wrap(b, o, l); }
                public byte[] unwrap(byte[] b, int o, int l) throws SaslException { return sc.unwrap(b, o, l); }
                public Object prop(String n) { return sc.getNegotiatedProperty(n); }
            };
        }
        DataInputStream in = new DataInputStream(socket.getInputStream());
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        int frames = 0;
        while (received.size() < length) {
            byte[] frame = readMsg(in);
            if (frame.length > maxbuf) throw new IllegalStateException("frame of " + frame.length + " above maxbuf " + maxbuf);
            received.write(layer.unwrap(frame, 0, frame.length));
            frames++;
        }
        byte[] data = received.toByteArray();
        int rawSend = Integer.parseInt((String) layer.prop(Sasl.RAW_SEND_SIZE));
        for (int off = 0; off < data.length; off += rawSend) {
            writeMsg(out, layer.wrap(data, off, Math.min(rawSend, data.length - off)));
        }
        System.err.println("JDK peer echoed " + data.length + " bytes from " + frames + " frames, raw send size " + rawSend);
        socket.shutdownOutput();
        socket.getInputStream().read(); // wait for the other side to close
        socket.close();
    }
}
