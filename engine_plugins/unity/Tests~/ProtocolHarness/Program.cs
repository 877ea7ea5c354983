using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using AvatarBridge;
using AvatarBridge.Protocol;

namespace AvatarBridge.Tests
{
    /// <summary>
    /// Command-line harness that runs the package's engine-independent code under Mono, driven by
    /// tests/test_unity_package.py. It prints decoded values one per line ("key value...") so the
    /// Python test can compare them with what the sidecar encoded into tests/vectors/, and runs
    /// self-tests for the parts that have no vector (name matching, retargeting, the frame
    /// exchange, JSON edge cases, control commands, transports, allocation), and prints the
    /// control commands it builds so the test can feed them to the sidecar's own parser. Every
    /// command exits 0 unless a self-test fails or a decoder throws, which is printed as "CRASH".
    /// </summary>
    public static class Program
    {
        private static int failures;

        public static int Main(string[] args)
        {
            if (args.Length == 0)
            {
                Console.Error.WriteLine("usage: harness (vmc|osc|garbage) FILE... | ws [--slot N] [--name NAME] FILE... | selftest | commands | udp PORT | wsclient URL");
                return 2;
            }
            try
            {
                string[] rest = new string[args.Length - 1];
                Array.Copy(args, 1, rest, 0, rest.Length);
                switch (args[0])
                {
                    case "vmc": Vmc(rest); break;
                    case "osc": Osc(rest); break;
                    case "ws": Ws(rest); break;
                    case "garbage": Garbage(rest); break;
                    case "selftest": SelfTest(); break;
                    case "commands": Commands(); break;
                    case "udp": Udp(int.Parse(rest[0], CultureInfo.InvariantCulture)); break;
                    case "wsclient": WsClient(rest[0]); break;
                    default:
                        Console.Error.WriteLine("unknown command " + args[0]);
                        return 2;
                }
            }
            catch (Exception e)
            {
                Console.WriteLine("CRASH " + e);
                return 3;
            }
            return failures == 0 ? 0 : 1;
        }

        private static string F(double v)
        {
            return v.ToString("R", CultureInfo.InvariantCulture);
        }

        private static string F(float v)
        {
            return v.ToString("R", CultureInfo.InvariantCulture);
        }

        private static string Q(Quat q)
        {
            return F(q.X) + " " + F(q.Y) + " " + F(q.Z) + " " + F(q.W);
        }

        private static string V(Vec3 v)
        {
            return F(v.X) + " " + F(v.Y) + " " + F(v.Z);
        }

        // ---- vector decoding -------------------------------------------------------------

        private static void Vmc(string[] files)
        {
            var parser = new OscParser();
            var decoder = new VmcDecoder(new StringCache());
            var frame = new FrameData();
            foreach (string file in files)
            {
                byte[] data = File.ReadAllBytes(file);
                DecodeResult r = parser.Parse(data, 0, data.Length);
                Console.WriteLine("packet " + Path.GetFileName(file) + " " + (r.Ok ? "ok " + parser.Count : "error " + r.Error));
                if (!r.Ok)
                {
                    continue;
                }
                DumpMessages(parser);
                int index = 0;
                while (index < parser.Count)
                {
                    bool complete;
                    DecodeResult d = decoder.Decode(parser, ref index, frame, out complete);
                    if (!d.Ok)
                    {
                        Console.WriteLine("decode error " + d.Error);
                    }
                    if (complete)
                    {
                        DumpFrame(frame, null);
                        frame.Clear();
                    }
                }
            }
        }

        private static void Osc(string[] files)
        {
            var parser = new OscParser();
            foreach (string file in files)
            {
                byte[] data = File.ReadAllBytes(file);
                DecodeResult r = parser.Parse(data, 0, data.Length);
                Console.WriteLine("packet " + Path.GetFileName(file) + " " + (r.Ok ? "ok " + parser.Count : "error " + r.Error));
                if (r.Ok)
                {
                    DumpMessages(parser);
                }
            }
        }

        private static void DumpMessages(OscParser parser)
        {
            var cache = new StringCache();
            for (int i = 0; i < parser.Count; i++)
            {
                OscMessage m = parser[i];
                var line = new StringBuilder("msg " + m.GetAddress() + " ," + m.GetTypeTags());
                for (int a = 0; a < m.ArgumentCount; a++)
                {
                    string s;
                    int n;
                    float f;
                    if (m.TryGetString(a, cache, out s))
                    {
                        line.Append(" ").Append(s);
                    }
                    else if (m.GetTag(a) == 'i' && m.TryGetInt(a, out n))
                    {
                        line.Append(" ").Append(n);
                    }
                    else if (m.TryGetFloat(a, out f))
                    {
                        line.Append(" ").Append(F(f));
                    }
                    else
                    {
                        line.Append(" ?");
                    }
                }
                Console.WriteLine(line);
            }
        }

        private static void DumpFrame(FrameData f, HelloData hello)
        {
            Console.WriteLine("frame.source " + f.Source);
            Console.WriteLine("frame.seq " + f.Sequence);
            Console.WriteLine("frame.applied " + f.Applied);
            Console.WriteLine("frame.person " + f.PersonId);
            Console.WriteLine("frame.slot " + f.PersonSlot);
            Console.WriteLine("frame.name " + (f.PersonName ?? "null"));
            Console.WriteLine("frame.similarity " + (float.IsNaN(f.PersonSimilarity) ? "null" : F(f.PersonSimilarity)));
            if (!double.IsNaN(f.CaptureTime))
            {
                Console.WriteLine("frame.t " + F(f.CaptureTime));
            }
            if (!double.IsNaN(f.SourceTime))
            {
                Console.WriteLine("frame.source_t " + F(f.SourceTime));
            }
            if (!float.IsNaN(f.SenderTime))
            {
                Console.WriteLine("frame.time " + F(f.SenderTime));
            }
            if (f.HasStatus)
            {
                Console.WriteLine("frame.status " + f.Loaded + " " + f.CalibrationState + " " + f.CalibrationMode + " " + f.TrackingStatus);
            }
            if (f.HasFace)
            {
                FaceData face = f.Face;
                Console.WriteLine("face.found " + face.Found);
                Console.WriteLine("face.presence " + F(face.Presence));
                Console.WriteLine("face.head_rot " + Q(face.HeadRotation));
                Console.WriteLine("face.head_pos " + V(face.HeadPosition));
                Console.WriteLine("face.eye_left " + Q(face.LeftEye));
                Console.WriteLine("face.eye_right " + Q(face.RightEye));
                Console.WriteLine("face.eye_angles " + F(face.LeftPitch) + " " + F(face.LeftYaw) + " " + F(face.RightPitch) + " " + F(face.RightYaw));
            }
            if (f.HasRoot)
            {
                Console.WriteLine("root " + V(f.RootPosition) + " " + Q(f.RootRotation));
            }
            for (int i = 0; i < f.BoneCount; i++)
            {
                Console.WriteLine("bone " + f.BoneNames[i] + " " + V(f.BonePositions[i]) + " " + Q(f.BoneRotations[i]));
            }
            Console.WriteLine("blend.count " + f.BlendCount);
            for (int i = 0; i < f.BlendCount; i++)
            {
                Console.WriteLine("blend " + f.BlendNames[i] + " " + F(f.BlendValues[i]));
            }
            for (int i = 0; i < f.EventCount; i++)
            {
                BridgeEvent e = f.Events[i];
                Console.WriteLine("event " + e.Type + " " + (e.Name ?? "-") + " " + (e.State ?? "-") + " " + (e.HasValue ? F(e.Value) : "-"));
            }
            for (int i = 0; i < f.ParameterCount; i++)
            {
                Console.WriteLine("parameter " + f.ParameterNames[i] + " " + (f.ParameterIsBool[i] ? (f.ParameterValues[i] != 0f ? "True" : "False") : F(f.ParameterValues[i])));
            }
            for (int i = 0; i < f.TimingCount; i++)
            {
                Console.WriteLine("timing " + f.TimingNames[i] + " " + F(f.TimingValues[i]));
            }
            Console.WriteLine("frame.end");
        }

        private static void DumpHello(HelloData h)
        {
            Console.WriteLine("hello.v " + h.SchemaVersion);
            Console.WriteLine("hello.server " + h.Server);
            Console.WriteLine("hello.version " + h.Version);
            Console.WriteLine("hello.mirror " + h.Mirror);
            Console.WriteLine("hello.blendshapes " + string.Join(" ", h.BlendshapeNames));
            Console.WriteLine("hello.bones " + string.Join(" ", h.BoneNames));
            Console.WriteLine("hello.commands " + string.Join(" ", h.Commands));
            Console.WriteLine("hello.max_people " + h.MaxPeople);
        }

        private static void Ws(string[] files)
        {
            var decoder = new WsMessageDecoder(new StringCache());
            var frame = new FrameData();
            int first = 0;
            while (files.Length >= first + 2 && (files[first] == "--slot" || files[first] == "--name"))
            {
                if (files[first] == "--slot")
                {
                    decoder.FollowSlot = int.Parse(files[first + 1], CultureInfo.InvariantCulture);
                }
                else
                {
                    decoder.FollowName = files[first + 1];
                }
                first += 2;
            }
            for (int n = first; n < files.Length; n++)
            {
                string file = files[n];
                byte[] data = File.ReadAllBytes(file);
                WsMessageKind kind;
                DecodeResult r = decoder.Decode(data, 0, data.Length, frame, out kind);
                Console.WriteLine("message " + Path.GetFileName(file) + " " + (r.Ok ? "ok " + kind : "error " + r.Error));
                if (!r.Ok)
                {
                    continue;
                }
                switch (kind)
                {
                    case WsMessageKind.Hello:
                        DumpHello(decoder.Hello);
                        break;
                    case WsMessageKind.Frame:
                        DumpFrame(frame, decoder.Hello);
                        break;
                    case WsMessageKind.Reply:
                        ReplyData reply = decoder.LastReply;
                        Console.WriteLine("reply.id " + (reply.Id ?? "null"));
                        Console.WriteLine("reply.command " + (reply.Command ?? "null"));
                        Console.WriteLine("reply.ok " + reply.Ok);
                        Console.WriteLine("reply.message " + reply.Message);
                        break;
                }
            }
        }

        // ---- control commands --------------------------------------------------------------

        /// <summary>Quotes, backslashes, control characters, non-ASCII and a surrogate pair: what escaping must survive.</summary>
        private const string Tricky = "say \"hi\" \\ back\tslash\n\u0001 caf\u00e9 \U0001F600";

        private static ControlCommand[] SampleCommands()
        {
            var mix = new List<KeyValuePair<string, float>>
            {
                new KeyValuePair<string, float>("mouthSmileLeft", 0.5f),
                new KeyValuePair<string, float>("mouthSmileRight", 0.5f),
                new KeyValuePair<string, float>("cheekSquintLeft", 1f),
            };
            return new[]
            {
                ControlCommands.Calibrate(), ControlCommands.ReloadConfig(), ControlCommands.Pause(), ControlCommands.Resume(),
                ControlCommands.Ping(), ControlCommands.Subscribe(true), ControlCommands.SetPreset("vrm1"),
                ControlCommands.SetShape(Tricky, "curve", -0.5f), ControlCommands.SetShape("jawOpen", "dead_zone", 1e-5f),
                ControlCommands.SetOutput("Joy", mix), ControlCommands.Rename("Joy", Tricky), ControlCommands.SaveConfig(),
                ControlCommands.Named("bogus"),
            };
        }

        /// <summary>One line per sample command: type, id and the UTF-8 bytes a transport would send, base64 (no console encoding in the way).</summary>
        private static void Commands()
        {
            Console.WriteLine("command.names " + string.Join(" ", ControlCommands.Names));
            ControlCommand[] commands = SampleCommands();
            for (int i = 0; i < commands.Length; i++)
            {
                byte[] utf8 = Encoding.UTF8.GetBytes(commands[i].ToJson(i + 1));
                Console.WriteLine("command " + commands[i].Type + " " + (i + 1) + " " + Convert.ToBase64String(utf8));
            }
        }

        /// <summary>Feeds arbitrary bytes to every decoder; the contract is "an error result, never an exception".</summary>
        private static void Garbage(string[] files)
        {
            foreach (string file in files)
            {
                byte[] data = File.ReadAllBytes(file);
                Console.WriteLine("garbage " + Path.GetFileName(file) + " osc=" + OscOutcome(data) + " ws=" + WsOutcome(data, null));
            }
        }

        private static string OscOutcome(byte[] data)
        {
            var parser = new OscParser();
            DecodeResult r = parser.Parse(data, 0, data.Length);
            if (!r.Ok)
            {
                return r.Error.ToString();
            }
            var decoder = new VmcDecoder(new StringCache());
            var frame = new FrameData();
            int index = 0;
            string outcome = "ok";
            while (index < parser.Count)
            {
                bool complete;
                DecodeResult d = decoder.Decode(parser, ref index, frame, out complete);
                if (!d.Ok)
                {
                    outcome = d.Error.ToString();
                }
            }
            return outcome;
        }

        private static string WsOutcome(byte[] data, byte[] hello)
        {
            var decoder = new WsMessageDecoder(new StringCache());
            var frame = new FrameData();
            WsMessageKind kind;
            if (hello != null)
            {
                decoder.Decode(hello, 0, hello.Length, frame, out kind);
            }
            DecodeResult r = decoder.Decode(data, 0, data.Length, frame, out kind);
            return r.Ok ? "ok" : r.Error.ToString();
        }

        // ---- end to end over real sockets --------------------------------------------------

        /// <summary>Listens like the Unity receiver does while the Python test sends the sidecar's packets.</summary>
        private static void Udp(int port)
        {
            using (var connection = new BridgeConnection(TransportKind.VmcUdp, port, null))
            {
                connection.Start();
                WaitFor(() => connection.State == ConnectionState.Listening, 5);
                Console.WriteLine("state " + connection.State);
                FrameData frame = null;
                if (!WaitFor(() => connection.TryTakeFrame(ref frame), 15))
                {
                    Console.WriteLine("udp no frame received: " + connection.State + " " + connection.StateDetail);
                    failures++;
                    return;
                }
                WaitFor(() => connection.Errors.Total > 0, 5);
                Console.WriteLine("state " + connection.State);
                DumpFrame(frame, null);
                DecodeResult first;
                while (connection.Errors.TryTakeUnreported(out first))
                {
                    Console.WriteLine("udp.error " + first.Error);
                }
            }
        }

        private static void WsClient(string url)
        {
            using (var connection = new BridgeConnection(TransportKind.WebSocket, 0, url))
            {
                connection.Start();
                FrameData frame = null;
                if (!WaitFor(() => connection.TryTakeFrame(ref frame), 10))
                {
                    Console.WriteLine("ws no frame received: " + connection.State + " " + connection.StateDetail);
                    failures++;
                    return;
                }
                Console.WriteLine("state " + connection.State);
                DumpHello(connection.Hello);
                DumpFrame(frame, connection.Hello);
                BridgeEvent e;
                while (connection.TryDequeueEvent(out e))
                {
                    Console.WriteLine("queued.event " + e);
                }
                var commands = new[] { ControlCommands.Ping(), ControlCommands.Named("bogus"), ControlCommands.SetShape("jawOpen", "gain", 1.5f), ControlCommands.Subscribe(false) };
                foreach (ControlCommand command in commands)
                {
                    int id = connection.Send(command);
                    Console.WriteLine("sent " + command.Type + " " + id);
                    ReplyData reply = null;
                    WaitFor(() => connection.TryDequeueReply(out reply), 10);
                    Console.WriteLine(reply == null ? "reply none" : "reply " + (reply.Id ?? "null") + " " + (reply.Command ?? "null") + " " + reply.Ok + " " + reply.Message);
                }

                // Whom to follow changes without a reconnect (the hello stays the same object): slot 2, then a
                // name nobody has, whose frames keep arriving but are not published.
                HelloData helloBefore = connection.Hello;
                connection.FollowSlot = 2;
                while (connection.TryTakeFrame(ref frame))
                {
                }
                bool switched = WaitFor(() => connection.TryTakeFrame(ref frame) && frame.PersonSlot == 2, 10);
                Console.WriteLine("switched " + switched + " id " + frame.PersonId + " slot " + frame.PersonSlot + " name " + (frame.PersonName ?? "null")
                    + " same_hello " + ReferenceEquals(helloBefore, connection.Hello));
                connection.FollowName = "nobody";
                long decodedBefore = connection.FramesDecoded;
                bool counted = WaitFor(() => connection.FramesWithoutPerson >= 3, 10);
                while (connection.TryTakeFrame(ref frame))
                {
                }
                bool published = WaitFor(() => connection.TryTakeFrame(ref frame), 0.3);
                Console.WriteLine("absent.counted " + counted + " published " + published + " decoded " + (connection.FramesDecoded - decodedBefore <= 1));
                Console.WriteLine("absent.errors " + connection.Errors.Total);
            }
        }

        private static bool WaitFor(Func<bool> condition, double seconds)
        {
            DateTime until = DateTime.UtcNow.AddSeconds(seconds);
            while (DateTime.UtcNow < until)
            {
                if (condition())
                {
                    return true;
                }
                Thread.Sleep(10);
            }
            return condition();
        }

        // ---- self-tests ----------------------------------------------------------------------

        private static void Check(string name, bool ok, string detail = "")
        {
            if (ok)
            {
                Console.WriteLine("PASS " + name);
            }
            else
            {
                failures++;
                Console.WriteLine("FAIL " + name + (detail.Length > 0 ? ": " + detail : ""));
            }
        }

        private static void SelfTest()
        {
            TestMatcher();
            TestRetarget();
            TestSlerp();
            TestJson();
            TestOscBuilder();
            TestExchange();
            TestNoGarbage();
            TestControlCommands();
            TestTransports();
            Console.WriteLine(failures == 0 ? "selftest ok" : "selftest failed " + failures);
        }

        private static void TestMatcher()
        {
            string[,] same =
            {
                { "eyeBlinkLeft", "eyeBlinkLeft" }, { "eyeBlinkLeft", "EyeBlinkLeft" }, { "eyeBlinkLeft", "eyeBlink_L" },
                { "eyeBlinkLeft", "blendShape1.eyeBlinkLeft" }, { "eyeBlinkLeft", "BS_eyeBlinkLeft" }, { "eyeBlinkLeft", "eye_blink_left" },
                { "eyeBlinkLeft", "Eye_Blink_L" }, { "eyeBlinkLeft", "eyeBlink.L" }, { "jawOpen", "ARKit_jawOpen" }, { "jawOpen", "blendShape.JawOpen" },
                { "mouthSmileRight", "mouthSmile_R" }, { "A", "aa" }, { "I", "ih" }, { "U", "ou" }, { "E", "ee" }, { "O", "oh" },
                { "Blink", "blink" }, { "Blink_L", "blinkLeft" }, { "Blink_R", "blinkRight" }, { "Joy", "happy" }, { "Angry", "angry" },
                { "Sorrow", "sad" }, { "Fun", "relaxed" }, { "Surprised", "surprised" }, { "Fcl_MTH_A", "aa" }, { "Fcl_EYE_Close_L", "Blink_L" },
                { "Fcl_ALL_Joy", "Joy" }, { "vrc.v_aa", "A" }, { "vrc.blink_left", "blinkLeft" }, { "blendShape2_mouthClose", "mouthClose" },
            };
            for (int i = 0; i < same.GetLength(0); i++)
            {
                Check("match " + same[i, 0] + " = " + same[i, 1], ShapeNameMatcher.Matches(same[i, 0], same[i, 1]),
                    ShapeNameMatcher.Canonical(same[i, 0]) + " vs " + ShapeNameMatcher.Canonical(same[i, 1]));
            }
            string[,] different =
            {
                { "eyeBlinkLeft", "eyeBlinkRight" }, { "mouthRollUpper", "mouthRollLower" }, { "A", "E" }, { "Blink", "Blink_L" },
                { "jawOpen", "jawForward" }, { "mouthLeft", "mouthSmileLeft" }, { "happy", "Fun" },
            };
            for (int i = 0; i < different.GetLength(0); i++)
            {
                Check("differ " + different[i, 0] + " != " + different[i, 1], !ShapeNameMatcher.Matches(different[i, 0], different[i, 1]));
            }
            var mesh = new List<string> { "blendShape1.eyeBlink_L", "blendShape1.eyeBlink_R", "blendShape1.jawOpen", "Fcl_MTH_A", "customShape" };
            MatchReport report = ShapeNameMatcher.Report(ArkitNames.All, mesh);
            Check("report matched", report.Matched.Count == 3, report.Matched.Count.ToString());
            Check("report missing", report.Missing.Count == 49 && !report.Missing.Contains("jawOpen"), report.Missing.Count.ToString());
            Check("report unused", report.Unused.Count == 2 && report.Unused.Contains("customShape") && report.Unused.Contains("Fcl_MTH_A"));
            Check("arkit names", ArkitNames.All.Length == 52 && new HashSet<string>(ArkitNames.All).Count == 52);
        }

        private static Quat RandomQuat(Random rng)
        {
            return Quat.Normalize(new Quat((float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble() * 2 - 1));
        }

        private static void TestRetarget()
        {
            var rng = new Random(7);
            Quat head = new Quat(0f, 0.7071068f, 0f, 0.7071068f);
            Check("retarget normalized rig is identity mapping",
                Quat.AngleBetween(RetargetMath.ToBoneLocal(head, Quat.Identity, Quat.Identity), head) < 1e-3f);

            // Any rig: the bone's rotation relative to the avatar root must become received * restInRoot.
            float worst = 0f;
            for (int i = 0; i < 1000; i++)
            {
                Quat parentRest = RandomQuat(rng);
                Quat restLocal = RandomQuat(rng);
                Quat received = RandomQuat(rng);
                Quat local = RetargetMath.ToBoneLocal(received, restLocal, parentRest);
                Quat world = Quat.Multiply(parentRest, local);
                Quat expected = Quat.Multiply(received, Quat.Multiply(parentRest, restLocal));
                worst = Math.Max(worst, Quat.AngleBetween(world, expected));
            }
            Check("retarget arbitrary rest pose", worst < 0.05f, "worst error " + worst + " deg");

            // Chains: parent and child both driven compose like the normalized rig (child world = qP * qC * childRestInRoot).
            worst = 0f;
            for (int i = 0; i < 1000; i++)
            {
                Quat grandRest = RandomQuat(rng);
                Quat parentRestLocal = RandomQuat(rng);
                Quat childRestLocal = RandomQuat(rng);
                Quat qp = RandomQuat(rng);
                Quat qc = RandomQuat(rng);
                Quat parentRestInRoot = Quat.Multiply(grandRest, parentRestLocal);
                Quat parentLocal = RetargetMath.ToBoneLocal(qp, parentRestLocal, grandRest);
                Quat childLocal = RetargetMath.ToBoneLocal(qc, childRestLocal, parentRestInRoot);
                Quat childWorld = Quat.Multiply(Quat.Multiply(grandRest, parentLocal), childLocal);
                Quat expected = Quat.Multiply(Quat.Multiply(qp, qc), Quat.Multiply(parentRestInRoot, childRestLocal));
                worst = Math.Max(worst, Quat.AngleBetween(childWorld, expected));
            }
            Check("retarget chain composes", worst < 0.05f, "worst error " + worst + " deg");

            // A bone whose rest is rotated 90 degrees about Z (typical FBX arm axes) still turns about the avatar's +Y.
            Quat armRest = Quat.AngleAxis(90f, 0f, 0f, 1f);
            Quat yaw = Quat.AngleAxis(30f, 0f, 1f, 0f);
            Quat armLocal = RetargetMath.ToBoneLocal(yaw, armRest, Quat.Identity);
            Check("retarget rotated rest turns about root axes", Quat.AngleBetween(armLocal, Quat.Multiply(yaw, armRest)) < 1e-3f);
            Check("smoothing factor", Math.Abs(RetargetMath.SmoothingFactor(0.1f, 0f) - 1f) < 1e-6f
                && Math.Abs(RetargetMath.SmoothingFactor(0.1f, 0.1f) - (1f - (float)Math.Exp(-1))) < 1e-5f);
            Check("normalize rejects garbage", Quat.Dot(Quat.Normalize(new Quat(float.NaN, 0, 0, 0)), Quat.Identity) == 1f
                && Quat.Dot(Quat.Normalize(new Quat(0, 0, 0, 0)), Quat.Identity) == 1f);
        }

        private static void TestSlerp()
        {
            Quat a = Quat.Identity;
            Quat b = Quat.AngleAxis(90f, 0f, 1f, 0f);
            Quat half = Quat.Slerp(a, b, 0.5f);
            Check("slerp halfway", Quat.AngleBetween(half, Quat.AngleAxis(45f, 0f, 1f, 0f)) < 1e-3f);
            Quat negB = new Quat(-b.X, -b.Y, -b.Z, -b.W);
            Check("slerp takes the short arc", Quat.AngleBetween(Quat.Slerp(a, negB, 0.5f), half) < 1e-3f);
        }

        private static void TestJson()
        {
            var reader = new JsonReader();
            string[] numbers = { "0", "-0.5", "0.70711", "1764000000.25", "1e-3", "2.5E+2", "123456789012", "0.0196", "-7" };
            double[] expected = { 0, -0.5, 0.70711, 1764000000.25, 1e-3, 250, 123456789012, 0.0196, -7 };
            for (int i = 0; i < numbers.Length; i++)
            {
                byte[] b = Encoding.UTF8.GetBytes(numbers[i]);
                reader.Reset(b, 0, b.Length);
                double v;
                bool ok = reader.Read() == JsonToken.Number && reader.TryGetDouble(out v) && v == expected[i] && reader.Read() == JsonToken.EndOfInput;
                Check("json number " + numbers[i], ok);
            }
            byte[] s = Encoding.UTF8.GetBytes("[\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\n\"]");
            reader.Reset(s, 0, s.Length);
            reader.Read();
            reader.Read();
            Check("json escapes", reader.GetStringCopy() == "caf\u00e9 \U0001F600 \"q\" \n", reader.GetStringCopy());
            string[] bad =
            {
                "", "   ", "01", "1.", "-", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "[1] x", "{\"a\":tru}", "\"abc", "[\"\\x\"]",
                "[\"a\u0001\"]", "{1:2}", "[1 2]", "{\"a\":1", new string('[', 100) + new string(']', 100), "nul", "[.5]", "[+1]",
            };
            foreach (string doc in bad)
            {
                byte[] b = Encoding.UTF8.GetBytes(doc);
                reader.Reset(b, 0, b.Length);
                JsonToken t;
                int guard = 0;
                do
                {
                    t = reader.Read();
                }
                while (t != JsonToken.Error && t != JsonToken.EndOfInput && ++guard < 1000);
                Check("json rejects " + (doc.Length > 20 ? doc.Substring(0, 20) + "..." : doc), t == JsonToken.Error);
            }
            byte[] nested = Encoding.UTF8.GetBytes("{\"a\":[1,{\"b\":[true,false,null,\"x\"]}],\"c\":2}");
            reader.Reset(nested, 0, nested.Length);
            reader.Read();
            reader.Read();
            bool skipped = reader.SkipNextValue();
            bool sawC = reader.Read() == JsonToken.PropertyName && reader.ValueEquals(Encoding.ASCII.GetBytes("c"));
            Check("json skip nested value", skipped && sawC);

            var decoder = new WsMessageDecoder(new StringCache());
            var frame = new FrameData();
            WsMessageKind kind;
            string[,] badMessages =
            {
                { "[1]", "NotAnObject" },
                { "{\"v\":2}", "MissingType" },
                { "{\"type\":\"frame\",\"v\":1,\"face\":{},\"blendshapes\":[]}", "UnsupportedVersion" },
                { "{\"type\":\"frame\",\"v\":4,\"people\":[]}", "UnsupportedVersion" },
                { "{\"type\":\"hello\",\"v\":1,\"channels\":{}}", "UnsupportedVersion" },
                { "{\"type\":\"reply\",\"ok\":true}", "UnsupportedVersion" },
                { "{\"type\":\"bogus\",\"v\":2}", "UnknownMessageType" },
                { "{\"type\":\"frame\",\"v\":2,\"seq\":1,\"people\":[]}", "FrameBeforeHello" },
                { "{\"type\":\"frame\",\"v\":2,\"seq\":\"1\"}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":2,\"people\":{}}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":2,\"people\":[1]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":2,\"people\":[{\"face\":{}}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":2,\"people\":[{\"id\":-1}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":2,\"people\":[{\"id\":\"0\"}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":2,\"people\":[{\"id\":0.5}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":2,\"people\":[{\"id\":0,\"face\":{\"head_rot\":[0,0,1]}}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":2,\"people\":[{\"id\":0,\"events\":[{\"name\":\"x\"}]}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":2,\"people\":[{\"id\":0,\"parameters\":{\"a\":\"on\"}}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":2,\"people\":[{\"id\":0,\"parameters\":[]}]}", "WrongValueType" },
                { "{\"type\":\"hello\",\"v\":2,\"channels\":{\"blendshapes\":[1]}}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":3,\"people\":[{\"id\":0,\"slot\":0}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":3,\"people\":[{\"id\":0,\"slot\":\"1\"}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":3,\"people\":[{\"id\":0,\"slot\":1,\"name\":5}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":3,\"people\":[{\"id\":0,\"slot\":1,\"similarity\":\"high\"}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":3,\"people\":[{\"slot\":1,\"name\":null}]}", "WrongValueType" },
                { "{\"type\":\"frame\",\"v\":3,\"people\":7}", "WrongValueType" },
                { "{\"type\":\"hello\",\"v\":3,\"channels\":{},\"people\":{\"max\":0,\"routes\":[]}}", "WrongValueType" },
            };
            for (int i = 0; i < badMessages.GetLength(0); i++)
            {
                byte[] b = Encoding.UTF8.GetBytes(badMessages[i, 0]);
                DecodeResult r = decoder.Decode(b, 0, b.Length, frame, out kind);
                Check("ws rejects " + badMessages[i, 0], r.Error.ToString() == badMessages[i, 1], r.ToString());
            }
            byte[] hello = Encoding.UTF8.GetBytes("{\"type\":\"hello\",\"v\":2,\"server\":\"avatar-bridge\",\"version\":\"9\",\"channels\":{\"blendshapes\":[\"a\",\"b\"],\"bones\":[\"Head\"]},\"mirror\":false,\"commands\":[],\"future\":{\"x\":[1]}}");
            Check("ws hello with unknown key", decoder.Decode(hello, 0, hello.Length, frame, out kind).Ok && kind == WsMessageKind.Hello && decoder.Hello.SchemaVersion == 2);
            byte[] mismatch = Encoding.UTF8.GetBytes("{\"type\":\"frame\",\"v\":2,\"people\":[{\"id\":0,\"blendshapes\":[0.5]}]}");
            Check("ws channel mismatch", decoder.Decode(mismatch, 0, mismatch.Length, frame, out kind).Error == ProtocolError.ChannelMismatch);
            byte[] noPeople = Encoding.UTF8.GetBytes("{\"type\":\"frame\",\"v\":2,\"seq\":1}");
            Check("ws frame without people", decoder.Decode(noPeople, 0, noPeople.Length, frame, out kind).Error == ProtocolError.WrongValueType);
            byte[] v1 = Encoding.UTF8.GetBytes("{\"type\":\"frame\",\"v\":1,\"seq\":1,\"blendshapes\":[0.25,1]}");
            DecodeResult old = decoder.Decode(v1, 0, v1.Length, frame, out kind);
            Check("ws v1 frame rejected, says what to do", old.Error == ProtocolError.UnsupportedVersion && old.Detail.Contains("not 2 or 3") && old.Detail.Contains("update"), old.ToString());
            byte[] reordered = Encoding.UTF8.GetBytes("{\"people\":[{\"blendshapes\":[0.25,1],\"bones\":{\"rot\":[[0,1,0,0]],\"pos\":[[1,2,3]]},\"future\":{\"x\":1},"
                + "\"events\":[{\"type\":\"action\",\"name\":\"wave\"},{\"type\":\"expression\",\"name\":\"happy\",\"state\":\"start\",\"probability\":0.8,\"extra\":[1]}],"
                + "\"parameters\":{\"Wave\":true,\"Happy\":0.75,\"Sad\":false},\"id\":0}],\"v\":2,\"type\":\"frame\",\"seq\":7}");
            DecodeResult rr = decoder.Decode(reordered, 0, reordered.Length, frame, out kind);
            Check("ws keys in any order", rr.Ok && kind == WsMessageKind.Frame && frame.Applied && frame.Sequence == 7 && frame.BlendCount == 2
                && frame.BlendNames[1] == "b" && frame.BlendValues[1] == 1f && frame.BoneCount == 1 && frame.BonePositions[0].Z == 3f, rr.ToString());
            Check("ws events", frame.EventCount == 2 && frame.Events[0].Name == "wave" && !frame.Events[0].HasValue
                && frame.Events[1].State == "start" && Math.Abs(frame.Events[1].Value - 0.8f) < 1e-6f);
            Check("ws parameters", frame.ParameterCount == 3 && frame.FindParameter("Happy") == 1 && frame.ParameterValues[1] == 0.75f && !frame.ParameterIsBool[1]
                && frame.ParameterIsBool[0] && frame.ParameterValues[0] == 1f && frame.ParameterIsBool[2] && frame.ParameterValues[2] == 0f && frame.FindParameter("x") == -1);

            // Several people (schema 2: no slot keys): the decoder follows the slot of each one's place in the list.
            byte[] two = Encoding.UTF8.GetBytes("{\"type\":\"frame\",\"v\":2,\"seq\":8,\"people\":["
                + "{\"blendshapes\":[0.1,0.2],\"events\":[{\"type\":\"action\",\"name\":\"wave\"}],\"parameters\":{\"A\":true},\"root\":{\"pos\":[1,1,1],\"rot\":[0,0,0,1]},\"id\":0},"
                + "{\"id\":3,\"blendshapes\":[0.3,0.4],\"face\":{\"found\":true,\"presence\":0.5},\"parameters\":{\"B\":0.5}},"
                + "{\"id\":4,\"blendshapes\":[0.5,0.6]}],\"timings_ms\":{\"total\":1}}");
            byte[] badTail = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(two).Replace("[0.5,0.6]", "[\"not read once slot 2 is found\"]"));
            decoder.FollowSlot = 2;
            rr = decoder.Decode(badTail, 0, badTail.Length, frame, out kind);
            Check("ws people after the one followed are skipped unread", rr.Ok && frame.Applied && frame.PersonId == 3, rr.ToString());
            rr = decoder.Decode(two, 0, two.Length, frame, out kind);
            Check("ws v2 slot 2 is the second person", rr.Ok && frame.Applied && frame.PersonId == 3 && frame.PersonSlot == 2 && frame.PersonName == null
                && float.IsNaN(frame.PersonSimilarity) && frame.BlendCount == 2 && frame.BlendValues[0] == 0.3f
                && frame.EventCount == 0 && !frame.HasRoot && frame.HasFace && frame.Face.Presence == 0.5f && frame.ParameterCount == 1
                && frame.ParameterNames[0] == "B" && frame.TimingCount == 1 && frame.Sequence == 8, rr.ToString());
            decoder.FollowSlot = 1;
            rr = decoder.Decode(two, 0, two.Length, frame, out kind);
            Check("ws v2 slot 1 is the first person (id last)", rr.Ok && frame.Applied && frame.PersonId == 0 && frame.PersonSlot == 1 && frame.BlendValues[1] == 0.2f
                && frame.EventCount == 1 && frame.HasRoot && !frame.HasFace && frame.ParameterCount == 1 && frame.ParameterNames[0] == "A", rr.ToString());
            decoder.FollowSlot = 4;
            rr = decoder.Decode(two, 0, two.Length, frame, out kind);
            Check("ws slot absent: ok, nothing to apply", rr.Ok && kind == WsMessageKind.Frame && !frame.Applied && frame.BlendCount == 0
                && frame.EventCount == 0 && !frame.HasFace && !frame.HasRoot && frame.ParameterCount == 0 && frame.Sequence == 8, rr.ToString());
            decoder.FollowName = "A";
            rr = decoder.Decode(two, 0, two.Length, frame, out kind);
            Check("ws v2 has no names: following one applies nothing", rr.Ok && kind == WsMessageKind.Frame && !frame.Applied && frame.BlendCount == 0, rr.ToString());

            // Schema 3: slots and names, keys in any order; a name wins over the slot wherever its person is.
            byte[] three = Encoding.UTF8.GetBytes("{\"type\":\"frame\",\"v\":3,\"seq\":9,\"people\":["
                + "{\"blendshapes\":[0.1,0.2],\"id\":5,\"name\":\"caf\\u00e9\",\"slot\":1,\"similarity\":0.75,\"box\":[0,0,0.5,1]},"
                + "{\"slot\":2,\"id\":2,\"name\":\"unknown\",\"similarity\":null,\"blendshapes\":[0.3,0.4],\"box\":null},"
                + "{\"id\":9,\"name\":\"B\",\"blendshapes\":[0.5,0.6],\"slot\":3,\"similarity\":0.5,\"box\":[0.5,0,1,1]}]}");
            decoder.FollowName = null;
            decoder.FollowSlot = 2;
            rr = decoder.Decode(three, 0, three.Length, frame, out kind);
            Check("ws v3 slot 2", rr.Ok && frame.Applied && frame.PersonId == 2 && frame.PersonSlot == 2 && frame.PersonName == "unknown"
                && float.IsNaN(frame.PersonSimilarity) && frame.BlendValues[0] == 0.3f, rr.ToString());
            decoder.FollowName = "B";
            rr = decoder.Decode(three, 0, three.Length, frame, out kind);
            Check("ws v3 name B wins over slot 2", rr.Ok && frame.Applied && frame.PersonId == 9 && frame.PersonSlot == 3 && frame.PersonName == "B"
                && frame.PersonSimilarity == 0.5f && frame.BlendValues[1] == 0.6f, rr.ToString());
            decoder.FollowName = "caf\u00e9";
            rr = decoder.Decode(three, 0, three.Length, frame, out kind);
            Check("ws v3 name with an escape, name after the values", rr.Ok && frame.Applied && frame.PersonId == 5 && frame.PersonSlot == 1
                && frame.PersonSimilarity == 0.75f && frame.BlendCount == 2 && frame.BlendValues[0] == 0.1f, rr.ToString());
            decoder.FollowName = "b";
            rr = decoder.Decode(three, 0, three.Length, frame, out kind);
            Check("ws v3 absent name: nothing to apply, no one else", rr.Ok && kind == WsMessageKind.Frame && !frame.Applied && frame.BlendCount == 0
                && frame.PersonName == null && frame.PersonSlot == 0, rr.ToString());
            decoder.FollowName = "";
            Check("ws empty name follows the slot", decoder.FollowName == null);
            byte[] empty = Encoding.UTF8.GetBytes("{\"type\":\"frame\",\"v\":3,\"seq\":9,\"people\":[]}");
            decoder.FollowSlot = 1;
            rr = decoder.Decode(empty, 0, empty.Length, frame, out kind);
            Check("ws empty people list: nothing to apply", rr.Ok && kind == WsMessageKind.Frame && !frame.Applied, rr.ToString());
            byte[] hello3 = Encoding.UTF8.GetBytes("{\"type\":\"hello\",\"v\":3,\"channels\":{\"blendshapes\":[\"a\",\"b\"],\"bones\":[]},\"people\":{\"routes\":[{\"slot\":1,\"outputs\":[]}],\"max\":3}}");
            rr = decoder.Decode(hello3, 0, hello3.Length, frame, out kind);
            Check("ws v3 hello with people", rr.Ok && kind == WsMessageKind.Hello && decoder.Hello.SchemaVersion == 3 && decoder.Hello.MaxPeople == 3, rr.ToString());
            byte[] reply = Encoding.UTF8.GetBytes("{\"type\":\"reply\",\"v\":2,\"id\":17,\"command\":null,\"ok\":false,\"message\":\"bad\"}");
            Check("ws reply with integer id", decoder.Decode(reply, 0, reply.Length, frame, out kind).Ok && decoder.LastReply.Id == "17" && decoder.LastReply.Command == null && !decoder.LastReply.Ok);
        }

        private static byte[] OscString(string s)
        {
            byte[] b = Encoding.UTF8.GetBytes(s);
            var padded = new byte[(b.Length + 4) & ~3];
            Array.Copy(b, padded, b.Length);
            return padded;
        }

        private static byte[] Concat(params byte[][] parts)
        {
            var ms = new MemoryStream();
            foreach (byte[] p in parts)
            {
                ms.Write(p, 0, p.Length);
            }
            return ms.ToArray();
        }

        private static byte[] BigEndian(int v)
        {
            return new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v };
        }

        private static byte[] Bundle(params byte[][] elements)
        {
            var parts = new List<byte[]> { OscString("#bundle"), new byte[] { 0, 0, 0, 0, 0, 0, 0, 1 } };
            foreach (byte[] e in elements)
            {
                parts.Add(BigEndian(e.Length));
                parts.Add(e);
            }
            return Concat(parts.ToArray());
        }

        private static void TestOscBuilder()
        {
            var parser = new OscParser();
            var cache = new StringCache();
            byte[] blend = Concat(OscString("/VMC/Ext/Blend/Val"), OscString(",sf"), OscString("jawOpen"), BigEndian(0x3f000000));
            byte[] apply = Concat(OscString("/VMC/Ext/Blend/Apply"), OscString(","));
            byte[] blob = Concat(OscString("/x"), OscString(",bTiNFdh"), BigEndian(5), new byte[] { 1, 2, 3, 4, 5, 0, 0, 0 }, BigEndian(7),
                new byte[8], new byte[8]);
            byte[] nested = Bundle(Bundle(Bundle(blend)), blob, apply);
            DecodeResult r = parser.Parse(nested, 0, nested.Length);
            Check("osc nested bundles", r.Ok && parser.Count == 3 && parser[2].AddressEquals(Encoding.ASCII.GetBytes("/VMC/Ext/Blend/Apply")), r.ToString());
            float f;
            string s;
            Check("osc nested message args", parser[0].TryGetString(0, cache, out s) && s == "jawOpen" && parser[0].TryGetFloat(1, out f) && f == 0.5f);
            int n;
            Check("osc blob and zero-size tags", parser[1].ArgumentCount == 7 && parser[1].TryGetInt(2, out n) && n == 7 && parser[1].GetTypeTags() == "bTiNFdh");
            byte[] noTags = OscString("/VMC/Ext/Blend/Apply");
            Check("osc message without type tags", parser.Parse(noTags, 0, noTags.Length).Ok && parser.Count == 1 && parser[0].ArgumentCount == 0);

            byte[] deep = blend;
            for (int i = 0; i < 10; i++)
            {
                deep = Bundle(deep);
            }
            Check("osc rejects deep nesting", parser.Parse(deep, 0, deep.Length).Error == ProtocolError.BundleTooDeep && parser.Count == 0);
            byte[] array = Concat(OscString("/a"), OscString(",[i]"), BigEndian(1));
            Check("osc rejects arrays", parser.Parse(array, 0, array.Length).Error == ProtocolError.UnsupportedTypeTag);
            byte[] badSize = Concat(OscString("#bundle"), new byte[8], BigEndian(-4), blend);
            Check("osc rejects negative element size", parser.Parse(badSize, 0, badSize.Length).Error == ProtocolError.BadBundleElement);
            byte[] hugeSize = Concat(OscString("#bundle"), new byte[8], BigEndian(0x7ffffffc), blend);
            Check("osc rejects oversized element", parser.Parse(hugeSize, 0, hugeSize.Length).Error == ProtocolError.Truncated);
            byte[] extra = Concat(blend, new byte[4]);
            Check("osc rejects trailing bytes", parser.Parse(extra, 0, extra.Length).Error == ProtocolError.TrailingBytes);
            byte[] wrongArgs = Bundle(Concat(OscString("/VMC/Ext/Blend/Val"), OscString(",ss"), OscString("a"), OscString("b")), apply);
            parser.Parse(wrongArgs, 0, wrongArgs.Length);
            var decoder = new VmcDecoder(cache);
            var frame = new FrameData();
            int index = 0;
            bool complete;
            DecodeResult d = decoder.Decode(parser, ref index, frame, out complete);
            Check("vmc bad arguments reported, frame still applied", d.Error == ProtocolError.BadVmcArguments && complete && frame.BlendCount == 0);

            // Every truncation of a real frame packet is either a valid shorter bundle or a clean error.
            byte[] real = Bundle(blend, blend, apply);
            bool allClean = true;
            for (int len = 0; len < real.Length; len++)
            {
                DecodeResult t = parser.Parse(real, 0, len);
                bool boundary = len == 16 || len == 16 + 4 + blend.Length || len == 16 + 2 * (4 + blend.Length);
                allClean &= boundary ? t.Ok : !t.Ok && parser.Count == 0;
            }
            Check("osc truncations", allClean);

            var rng = new Random(3);
            var noise = new byte[256];
            for (int i = 0; i < 20000; i++)
            {
                rng.NextBytes(noise);
                int len = rng.Next(noise.Length + 1) & ~3;
                if (rng.Next(4) == 0)
                {
                    Array.Copy(real, noise, Math.Min(real.Length, noise.Length));
                    noise[rng.Next(real.Length)] = (byte)rng.Next(256);
                    len = real.Length;
                }
                if (parser.Parse(noise, 0, len).Ok)
                {
                    index = 0;
                    while (index < parser.Count)
                    {
                        decoder.Decode(parser, ref index, frame, out complete);
                    }
                }
            }
            Check("osc random bytes never throw", true);
        }

        private static void TestExchange()
        {
            int created = 0;
            var exchange = new FrameExchange<FrameData>(() =>
            {
                Interlocked.Increment(ref created);
                return new FrameData();
            });
            const int Frames = 200000;
            var names = new string[8];
            for (int i = 0; i < names.Length; i++)
            {
                names[i] = "s" + i;
            }
            var writer = new Thread(() =>
            {
                FrameData w = exchange.WriteBuffer;
                for (int seq = 1; seq <= Frames; seq++)
                {
                    w.Clear();
                    w.Sequence = seq;
                    for (int i = 0; i < names.Length; i++)
                    {
                        w.SetBlend(names[i], seq);
                    }
                    w = exchange.Publish();
                }
            });
            writer.Start();
            FrameData current = null;
            long last = 0;
            int taken = 0;
            bool torn = false;
            bool backwards = false;
            while (last < Frames)
            {
                if (exchange.TryTake(ref current))
                {
                    taken++;
                    backwards |= current.Sequence <= last;
                    last = current.Sequence;
                    for (int i = 0; i < current.BlendCount; i++)
                    {
                        torn |= current.BlendValues[i] != current.Sequence;
                    }
                    torn |= current.BlendCount != names.Length;
                }
            }
            writer.Join();
            Check("exchange never tears a frame", !torn);
            Check("exchange keeps order", !backwards);
            Check("exchange delivers the last frame", last == Frames, "taken " + taken);
            Check("exchange uses exactly three buffers", created == 3, "created " + created + " buffers");
        }

        /// <summary>After warm-up, decoding the golden VMC frame and JSON frame allocates nothing.</summary>
        private static void TestNoGarbage()
        {
            byte[] blend = Concat(OscString("/VMC/Ext/Blend/Val"), OscString(",sf"), OscString("jawOpen"), BigEndian(0x3f000000));
            byte[] bone = Concat(OscString("/VMC/Ext/Bone/Pos"), OscString(",sfffffff"), OscString("Head"), new byte[24], BigEndian(0x3f800000));
            byte[] apply = Concat(OscString("/VMC/Ext/Blend/Apply"), OscString(","));
            byte[] packet = Bundle(bone, blend, apply);
            var parser = new OscParser();
            var decoder = new VmcDecoder(new StringCache());
            var frame = new FrameData();
            Func<int> vmcOnce = () =>
            {
                parser.Parse(packet, 0, packet.Length);
                int index = 0;
                bool complete;
                decoder.Decode(parser, ref index, frame, out complete);
                frame.Clear();
                return index;
            };
            vmcOnce();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                vmcOnce();
            }
            long vmcBytes = GC.GetAllocatedBytesForCurrentThread() - before;
            Check("vmc decode allocates nothing after warm-up", vmcBytes == 0, vmcBytes + " bytes for 1000 frames");

            byte[] hello = Encoding.UTF8.GetBytes("{\"type\":\"hello\",\"v\":2,\"server\":\"avatar-bridge\",\"version\":\"0\",\"channels\":{\"blendshapes\":[\"jawOpen\",\"eyeBlinkLeft\"],\"bones\":[\"Head\"]},\"mirror\":true,\"commands\":[]}");
            string person = "\"face\":{\"found\":true,\"presence\":1.0,\"head_rot\":[0.0,0.70711,0.0,0.70711],"
                + "\"head_pos\":[0.01,-0.02,0.03],\"eye_left\":[0,0,0,1],\"eye_right\":[0,0,0,1],\"eye_angles\":[0,10,10,0]},\"blendshapes\":[0.5,0.25],"
                + "\"bones\":{\"rot\":[[0,0.70711,0,0.70711]],\"pos\":[[0,0,0]]},\"root\":{\"pos\":[0,0,0],\"rot\":[0,0,0,1]},\"classes\":{\"expression\":{\"happy\":0.9}},"
                + "\"events\":[{\"type\":\"expression\",\"name\":\"happy\",\"state\":\"start\"}],\"parameters\":{\"Happy\":true,\"Smile\":0.5}";
            byte[] json = Encoding.UTF8.GetBytes("{\"type\":\"frame\",\"v\":3,\"seq\":42,\"t\":1764000000.25,\"source_t\":1.5,\"people\":["
                + "{\"id\":0,\"slot\":1,\"name\":\"A\",\"similarity\":0.9,\"box\":[0.1,0.1,0.4,0.9]," + person + "},"
                + "{\"id\":1,\"slot\":2,\"name\":\"B\",\"similarity\":0.8,\"box\":[0.6,0.1,0.9,0.9]," + person
                + "}],\"timings_ms\":{\"track\":8.5,\"total\":9.25}}");
            var ws = new WsMessageDecoder(new StringCache());
            WsMessageKind kind;
            ws.Decode(hello, 0, hello.Length, frame, out kind);
            // Following slot 1, slot 2, an absent slot, name "B" and an absent name.
            int[] slots = { 1, 2, 3, 1, 1 };
            string[] names = { null, null, null, "B", "C" };
            for (int n = 0; n < slots.Length; n++)
            {
                ws.FollowSlot = slots[n];
                ws.FollowName = names[n];
                bool present = slots[n] < 3 && names[n] != "C";
                ws.Decode(json, 0, json.Length, frame, out kind);
                before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 1000; i++)
                {
                    ws.Decode(json, 0, json.Length, frame, out kind);
                }
                long wsBytes = GC.GetAllocatedBytesForCurrentThread() - before;
                string who = names[n] != null ? "name " + names[n] : "slot " + slots[n];
                Check("ws frame decode allocates nothing after warm-up (" + who + ")", wsBytes == 0 && kind == WsMessageKind.Frame && frame.Applied == present
                    && (!present || (frame.ParameterCount == 2 && frame.PersonName == (names[n] ?? (slots[n] == 1 ? "A" : "B")))), wsBytes + " bytes for 1000 frames");
            }
        }

        /// <summary>Reads one JSON value with the package's own reader into plain objects (dictionary, list, double, bool, string, null).</summary>
        private static object ReadValue(JsonReader reader, JsonToken t)
        {
            switch (t)
            {
                case JsonToken.BeginObject:
                    var obj = new Dictionary<string, object>();
                    while ((t = reader.Read()) == JsonToken.PropertyName)
                    {
                        string name = reader.GetStringCopy();
                        obj[name] = ReadValue(reader, reader.Read());
                    }
                    return t == JsonToken.EndObject ? obj : null;
                case JsonToken.String:
                    return reader.GetStringCopy();
                case JsonToken.Number:
                    double d;
                    return reader.TryGetDouble(out d) ? (object)d : null;
                case JsonToken.True:
                    return true;
                case JsonToken.False:
                    return false;
                default:
                    return null;
            }
        }

        private static Dictionary<string, object> ParseObject(string json)
        {
            var reader = new JsonReader();
            byte[] utf8 = Encoding.UTF8.GetBytes(json);
            reader.Reset(utf8, 0, utf8.Length);
            var obj = ReadValue(reader, reader.Read()) as Dictionary<string, object>;
            return obj != null && reader.Read() == JsonToken.EndOfInput ? obj : null;
        }

        private static bool Has(Dictionary<string, object> obj, string key, object expected)
        {
            object v;
            return obj != null && obj.TryGetValue(key, out v) && Equals(v, expected);
        }

        /// <summary>Every builder's JSON parses with the package's reader and carries exactly its type, id and arguments.</summary>
        private static void TestControlCommands()
        {
            foreach (string name in ControlCommands.Names)
            {
                Dictionary<string, object> named = ParseObject(ControlCommands.Named(name).ToJson(7));
                Check("command " + name + " by name", named != null && named.Count == 2 && Has(named, "type", name) && Has(named, "id", 7.0));
            }
            Dictionary<string, object> shape = ParseObject(ControlCommands.SetShape(Tricky, "curve", -0.5f).ToJson(3));
            Check("set_shape escapes and round-trips its strings", shape != null && shape.Count == 5 && Has(shape, "type", "set_shape")
                && Has(shape, "shape", Tricky) && Has(shape, "key", "curve") && Has(shape, "value", -0.5) && Has(shape, "id", 3.0));
            Dictionary<string, object> small = ParseObject(ControlCommands.SetShape("jawOpen", "dead_zone", 1e-5f).ToJson(4));
            object tiny;
            Check("set_shape writes an exponent as JSON", small != null && small.TryGetValue("value", out tiny) && (float)(double)tiny == 1e-5f);
            var all = new StringBuilder();
            for (char c = '\0'; c < ' '; c++)
            {
                all.Append(c);
            }
            string controls = all.Append("\"\\/\u007f\u2028").ToString();
            Check("every control character escapes", Has(ParseObject(ControlCommands.Rename(controls, controls).ToJson(5)), "to", controls));
            Dictionary<string, object> subscribe = ParseObject(ControlCommands.Subscribe(true).ToJson(6));
            Check("subscribe", Has(subscribe, "preview", true) && subscribe.Count == 3);
            var mix = new Dictionary<string, float> { { "mouthSmileLeft", 0.25f }, { "jaw\"Open", 1f } };
            Dictionary<string, object> output = ParseObject(ControlCommands.SetOutput("Smile", mix).ToJson(8));
            object mixValue;
            var parsedMix = output != null && output.TryGetValue("mix", out mixValue) ? mixValue as Dictionary<string, object> : null;
            Check("set_output mix", Has(output, "output", "Smile") && parsedMix != null && parsedMix.Count == 2
                && Has(parsedMix, "mouthSmileLeft", 0.25) && Has(parsedMix, "jaw\"Open", 1.0));
            Check("set_preset", Has(ParseObject(ControlCommands.SetPreset("vrm1").ToJson(9)), "preset", "vrm1"));
            Check("command refuses NaN", Throws<ArgumentOutOfRangeException>(() => ControlCommands.SetShape("jawOpen", "gain", float.NaN)));
            Check("command refuses infinity", Throws<ArgumentOutOfRangeException>(() => ControlCommands.SetOutput("x", new Dictionary<string, float> { { "jawOpen", float.PositiveInfinity } })));
            Check("command refuses null names", Throws<ArgumentNullException>(() => ControlCommands.Rename("Joy", null))
                && Throws<ArgumentNullException>(() => ControlCommands.Named(null)) && Throws<ArgumentNullException>(() => ControlCommands.SetOutput("x", null)));

            var decoder = new WsMessageDecoder(new StringCache());
            var frame = new FrameData();
            WsMessageKind kind;
            byte[] preview = Encoding.UTF8.GetBytes("{\"type\":\"preview\",\"v\":2,\"seq\":3,\"w\":2,\"h\":2,\"jpeg\":\"AAAA\",\"landmarks\":[0.5,0.5],"
                + "\"pose\":[],\"pose_visibility\":[],\"hands\":[{\"side\":\"left\",\"landmarks\":[0.1,0.2]}]}");
            DecodeResult r = decoder.Decode(preview, 0, preview.Length, frame, out kind);
            Check("ws preview recognised and skipped", r.Ok && kind == WsMessageKind.Preview, r.ToString());
        }

        private static bool Throws<T>(Action action) where T : Exception
        {
            try
            {
                action();
            }
            catch (T)
            {
                return true;
            }
            return false;
        }

        /// <summary>Transport states on real sockets: a port held by another socket, a bad URL, sending over VMC.</summary>
        private static void TestTransports()
        {
            using (var holder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
            {
                holder.Bind(new IPEndPoint(IPAddress.Any, 0));
                int port = ((IPEndPoint)holder.LocalEndPoint).Port;
                using (var connection = new BridgeConnection(TransportKind.VmcUdp, port, null))
                {
                    connection.Start();
                    bool retrying = WaitFor(() => connection.State == ConnectionState.Retrying, 5);
                    Check("udp port in use: retrying, and says why", retrying && connection.StateDetail.Contains("in use"), connection.State + " " + connection.StateDetail);
                    Check("udp cannot send commands", connection.Send(ControlCommands.Ping()) == -1);
                    connection.Stop();
                    Check("udp stopped", connection.State == ConnectionState.Stopped && connection.StateDetail.Length == 0);
                }
            }
            using (var connection = new BridgeConnection(TransportKind.WebSocket, 0, "http://127.0.0.1:1"))
            {
                connection.Start();
                bool stopped = WaitFor(() => connection.StateDetail.Contains("not a ws://"), 5);
                Check("websocket rejects a non-ws URL", stopped && connection.State == ConnectionState.Stopped, connection.State + " " + connection.StateDetail);
                Check("websocket cannot send before it connects", connection.SendCommand("ping") == -1);
            }
        }
    }
}
