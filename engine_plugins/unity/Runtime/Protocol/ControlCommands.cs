using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace AvatarBridge.Protocol
{
    /// <summary>
    /// One control message for the sidecar's WebSocket server: its type and its arguments, already
    /// encoded. The id is added by <see cref="ToJson"/> when the message is sent, because the
    /// connection that sends it is what numbers the commands and routes the replies back.
    /// </summary>
    public struct ControlCommand
    {
        private readonly string type;
        private readonly string arguments;

        internal ControlCommand(string type, string arguments)
        {
            this.type = type;
            this.arguments = arguments;
        }

        /// <summary>The command name, e.g. "calibrate"; the reply's <see cref="ReplyData.Command"/>.</summary>
        public string Type
        {
            get { return type; }
        }

        /// <summary>The message as the sidecar's <c>parse_control</c> reads it: {"type":..,"id":id,..arguments}.</summary>
        public string ToJson(int id)
        {
            var b = new StringBuilder(32 + (arguments == null ? 0 : arguments.Length));
            b.Append("{\"type\":");
            ControlCommands.AppendString(b, type ?? "");
            b.Append(",\"id\":").Append(id.ToString(CultureInfo.InvariantCulture));
            b.Append(arguments);
            return b.Append('}').ToString();
        }
    }

    /// <summary>
    /// Builders for every control command of the sidecar (bridge/protocols/jsonframe.py COMMANDS,
    /// documented in docs/wire-formats.md), so scripts never assemble command JSON by hand and the
    /// escaping is right for any name. The sidecar stays the judge of values (name lengths, tuning
    /// keys, output names): a command it rejects comes back as a reply with <c>ok = false</c> and
    /// its one-line reason. Only what JSON cannot carry is refused here: null strings and numbers
    /// that are not finite.
    /// </summary>
    public static class ControlCommands
    {
        /// <summary>The sidecar's command names, in the order its hello lists them.</summary>
        public static readonly string[] Names =
        {
            "calibrate", "reload_config", "pause", "resume", "ping", "subscribe", "set_preset", "set_shape", "set_output", "rename", "save_config",
        };

        /// <summary>Captures the neutral face and saves the calibration profile.</summary>
        public static ControlCommand Calibrate()
        {
            return Named("calibrate");
        }

        /// <summary>Re-reads the sidecar's config file.</summary>
        public static ControlCommand ReloadConfig()
        {
            return Named("reload_config");
        }

        /// <summary>Stops tracking and sending until <see cref="Resume"/>.</summary>
        public static ControlCommand Pause()
        {
            return Named("pause");
        }

        public static ControlCommand Resume()
        {
            return Named("resume");
        }

        /// <summary>Answered with "pong"; checks the command path end to end.</summary>
        public static ControlCommand Ping()
        {
            return Named("ping");
        }

        /// <summary>Whether this connection receives the sidecar's camera preview messages.</summary>
        public static ControlCommand Subscribe(bool preview)
        {
            return new ControlCommand("subscribe", ",\"preview\":" + (preview ? "true" : "false"));
        }

        /// <summary>Switches the mapping preset ("arkit", "vrm0", "vrm1", "vrchat_unified"), live and not saved.</summary>
        public static ControlCommand SetPreset(string preset)
        {
            var b = new StringBuilder();
            AppendMember(b, "preset", preset);
            return new ControlCommand("set_preset", b.ToString());
        }

        /// <summary>Tunes one output: <paramref name="key"/> is gain, offset, curve, dead_zone, min or max.</summary>
        public static ControlCommand SetShape(string shape, string key, float value)
        {
            var b = new StringBuilder();
            AppendMember(b, "shape", shape);
            AppendMember(b, "key", key);
            b.Append(",\"value\":");
            AppendNumber(b, value, "value");
            return new ControlCommand("set_shape", b.ToString());
        }

        /// <summary>Adds or replaces output <paramref name="output"/> as a weighted mix of ARKit shapes.</summary>
        public static ControlCommand SetOutput(string output, IEnumerable<KeyValuePair<string, float>> mix)
        {
            if (mix == null)
            {
                throw new ArgumentNullException("mix", "set_output needs a mix of ARKit name -> weight");
            }
            var b = new StringBuilder();
            AppendMember(b, "output", output);
            b.Append(",\"mix\":{");
            bool first = true;
            foreach (KeyValuePair<string, float> part in mix)
            {
                if (!first)
                {
                    b.Append(',');
                }
                first = false;
                AppendString(b, Required(part.Key, "mix name"));
                b.Append(':');
                AppendNumber(b, part.Value, "mix weight of " + part.Key);
            }
            b.Append('}');
            return new ControlCommand("set_output", b.ToString());
        }

        /// <summary>Renames output <paramref name="output"/> to <paramref name="to"/>, keeping its mix and tuning.</summary>
        public static ControlCommand Rename(string output, string to)
        {
            var b = new StringBuilder();
            AppendMember(b, "output", output);
            AppendMember(b, "to", to);
            return new ControlCommand("rename", b.ToString());
        }

        /// <summary>Writes the live mapping edits into the sidecar's TOML config.</summary>
        public static ControlCommand SaveConfig()
        {
            return Named("save_config");
        }

        /// <summary>
        /// A command without arguments by name, for names a newer sidecar lists in its hello's
        /// <see cref="HelloData.Commands"/>; the sidecar rejects names it does not know.
        /// </summary>
        public static ControlCommand Named(string type)
        {
            return new ControlCommand(Required(type, "command"), "");
        }

        /// <summary>Appends <paramref name="s"/> as a JSON string (RFC 8259: quote, backslash and control characters escaped).</summary>
        public static void AppendString(StringBuilder into, string s)
        {
            into.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': into.Append("\\\""); break;
                    case '\\': into.Append("\\\\"); break;
                    case '\b': into.Append("\\b"); break;
                    case '\f': into.Append("\\f"); break;
                    case '\n': into.Append("\\n"); break;
                    case '\r': into.Append("\\r"); break;
                    case '\t': into.Append("\\t"); break;
                    default:
                        if (c < ' ')
                        {
                            into.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            into.Append(c);
                        }
                        break;
                }
            }
            into.Append('"');
        }

        private static void AppendMember(StringBuilder into, string name, string value)
        {
            into.Append(",\"").Append(name).Append("\":");
            AppendString(into, Required(value, name));
        }

        /// <summary>Shortest text that reads back as the same float ("R"), e.g. 1.25 or 1E-05, both valid JSON numbers.</summary>
        private static void AppendNumber(StringBuilder into, float value, string what)
        {
            if (float.IsNaN(value) || float.IsInfinity(value))
            {
                throw new ArgumentOutOfRangeException(what, value, what + " must be a finite number: JSON has no NaN or infinity");
            }
            into.Append(value.ToString("R", CultureInfo.InvariantCulture));
        }

        private static string Required(string value, string what)
        {
            if (value == null)
            {
                throw new ArgumentNullException(what, what + " must not be null");
            }
            return value;
        }
    }
}
