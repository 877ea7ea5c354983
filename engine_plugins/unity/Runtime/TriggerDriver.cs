using System;
using System.Collections.Generic;
using AvatarBridge.Protocol;
using UnityEngine;
using UnityEngine.Events;

namespace AvatarBridge
{
    /// <summary>
    /// Turns the sidecar's events (the WebSocket frame's <c>events</c> array, e.g.
    /// {"type":"expression","name":"happy","state":"start"} or {"type":"action","name":"wave"})
    /// into Animator parameters and UnityEvents, so detected expressions, gestures and actions can
    /// start animations without code. Expression strengths can also feed float parameters named
    /// after the expression, smoothed, for blend trees. Events arrive through the receiver's queue,
    /// so none are lost when several frames land between two Updates.
    /// </summary>
    [AddComponentMenu("Avatar Bridge/Trigger Driver")]
    public sealed class TriggerDriver : BridgeDriver
    {
        public enum ParameterKind
        {
            None,
            Trigger,
            Bool,
            Float,
            Integer,
        }

        /// <summary>Which phase of an event a rule reacts to; events without a state count as Start.</summary>
        public enum StateFilter
        {
            Any,
            Start,
            End,
        }

        [Serializable]
        public sealed class Rule
        {
            [Tooltip("Event type to react to: expression, action, gesture, ... or * for any.")]
            [SerializeField] private string eventType = "expression";

            [Tooltip("Event name, e.g. happy or wave, or * for any.")]
            [SerializeField] private string eventName = "*";

            [SerializeField] private StateFilter state = StateFilter.Start;

            [SerializeField] private ParameterKind parameterKind = ParameterKind.Trigger;

            [Tooltip("Animator parameter to set.")]
            [SerializeField] private string parameter = "";

            [Tooltip("Integer value to set, or the float value when the event carries no strength.")]
            [SerializeField] private float value = 1f;

            [SerializeField] private UnityEvent onEvent = new UnityEvent();

            public Rule()
            {
            }

            public Rule(string eventType, string eventName, StateFilter state, ParameterKind parameterKind, string parameter)
            {
                this.eventType = eventType;
                this.eventName = eventName;
                this.state = state;
                this.parameterKind = parameterKind;
                this.parameter = parameter;
            }

            public string EventType
            {
                get { return eventType; }
            }

            public string EventName
            {
                get { return eventName; }
            }

            public StateFilter State
            {
                get { return state; }
            }

            public ParameterKind Kind
            {
                get { return parameterKind; }
            }

            public string Parameter
            {
                get { return parameter; }
            }

            public float Value
            {
                get { return value; }
            }

            public UnityEvent OnEvent
            {
                get { return onEvent; }
            }

            public bool Matches(BridgeEvent e)
            {
                return Wildcard(eventType, e.Type) && Wildcard(eventName, e.Name)
                    && (state == StateFilter.Any || (state == StateFilter.End) == IsEnd(e));
            }

            private static bool Wildcard(string pattern, string text)
            {
                return string.IsNullOrEmpty(pattern) || pattern == "*" || string.Equals(pattern, text, StringComparison.OrdinalIgnoreCase);
            }
        }

        private const int RecentCapacity = 8;

        [Tooltip("Defaults to the Animator on this GameObject or its children.")]
        [SerializeField] private Animator animator;

        [SerializeField] private List<Rule> rules = new List<Rule>();

        [Tooltip("For every expression event, set the float parameter named prefix + expression name (if the controller has it) to the expression's strength, 0 when it ends.")]
        [SerializeField] private bool expressionFloats = true;

        [SerializeField] private string expressionFloatPrefix = "";

        private sealed class FloatParameter
        {
            public int Hash;
            public float Target;
            public float Current;
        }

        private readonly Dictionary<int, AnimatorControllerParameterType> parameterTypes = new Dictionary<int, AnimatorControllerParameterType>();
        private readonly Dictionary<string, int> hashes = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly List<FloatParameter> floats = new List<FloatParameter>();
        private readonly HashSet<string> warnedMissing = new HashSet<string>(StringComparer.Ordinal);
        private readonly Queue<string> recent = new Queue<string>();
        private AvatarBridgeReceiver subscribed;
        private RuntimeAnimatorController indexedController;

        /// <summary>Raised for every received event after the rules ran, for scripts that want all of them.</summary>
        public event Action<BridgeEvent> EventHandled;

        public TriggerDriver()
            : base(0.1f)
        {
        }

        public Animator Animator
        {
            get { return animator; }
            set { animator = value; indexedController = null; }
        }

        public List<Rule> Rules
        {
            get { return rules; }
        }

        /// <summary>The last few events handled, newest last (for the inspector).</summary>
        public IEnumerable<string> RecentEvents
        {
            get { return recent; }
        }

        /// <summary>Float parameters being driven and their current values (for the inspector).</summary>
        public void GetLiveFloats(List<KeyValuePair<string, float>> into)
        {
            into.Clear();
            foreach (KeyValuePair<string, int> h in hashes)
            {
                foreach (FloatParameter f in floats)
                {
                    if (f.Hash == h.Value)
                    {
                        into.Add(new KeyValuePair<string, float>(h.Key, f.Current));
                    }
                }
            }
        }

        protected override void Awake()
        {
            base.Awake();
            if (animator == null)
            {
                animator = GetComponentInChildren<Animator>();
            }
        }

        private void OnEnable()
        {
            Subscribe();
        }

        private void OnDisable()
        {
            if (subscribed != null)
            {
                subscribed.EventReceived -= Handle;
                subscribed = null;
            }
        }

        protected override void OnReceiverChanged()
        {
            Subscribe();
        }

        private void Subscribe()
        {
            if (!isActiveAndEnabled || subscribed == Receiver)
            {
                return;
            }
            if (subscribed != null)
            {
                subscribed.EventReceived -= Handle;
            }
            subscribed = Receiver;
            if (subscribed != null)
            {
                subscribed.EventReceived += Handle;
            }
        }

        private void Update()
        {
            if (animator == null || floats.Count == 0)
            {
                return;
            }
            float k = SmoothingStep();
            float weight = Weight;
            for (int i = 0; i < floats.Count; i++)
            {
                FloatParameter f = floats[i];
                f.Current += (f.Target - f.Current) * k;
                animator.SetFloat(f.Hash, f.Current * weight);
            }
        }

        /// <summary>Applies one event: matching rules first, then the automatic expression floats.</summary>
        public void Handle(BridgeEvent e)
        {
            Remember(e);
            IndexParameters();
            bool end = IsEnd(e);
            for (int i = 0; i < rules.Count; i++)
            {
                Rule rule = rules[i];
                if (rule == null || !rule.Matches(e))
                {
                    continue;
                }
                Apply(rule, e, end);
                rule.OnEvent.Invoke();
            }
            if (expressionFloats && e.Name != null && string.Equals(e.Type, "expression", StringComparison.OrdinalIgnoreCase))
            {
                string parameter = expressionFloatPrefix + e.Name;
                int hash = HashOf(parameter);
                AnimatorControllerParameterType type;
                if (parameterTypes.TryGetValue(hash, out type) && type == AnimatorControllerParameterType.Float)
                {
                    SetFloatTarget(hash, end ? 0f : (e.HasValue ? e.Value : 1f));
                }
            }
            if (EventHandled != null)
            {
                EventHandled(e);
            }
        }

        private void Apply(Rule rule, BridgeEvent e, bool end)
        {
            if (rule.Kind == ParameterKind.None || animator == null || string.IsNullOrEmpty(rule.Parameter))
            {
                return;
            }
            int hash = HashOf(rule.Parameter);
            if (!HasParameter(hash, rule.Parameter))
            {
                return;
            }
            switch (rule.Kind)
            {
                case ParameterKind.Trigger:
                    animator.SetTrigger(hash);
                    break;
                case ParameterKind.Bool:
                    animator.SetBool(hash, !end);
                    break;
                case ParameterKind.Integer:
                    animator.SetInteger(hash, end ? 0 : Mathf.RoundToInt(rule.Value));
                    break;
                case ParameterKind.Float:
                    SetFloatTarget(hash, end ? 0f : (e.HasValue ? e.Value : rule.Value));
                    break;
            }
        }

        private void SetFloatTarget(int hash, float target)
        {
            for (int i = 0; i < floats.Count; i++)
            {
                if (floats[i].Hash == hash)
                {
                    floats[i].Target = target;
                    return;
                }
            }
            floats.Add(new FloatParameter { Hash = hash, Target = target, Current = SmoothingTime > 0f ? 0f : target });
        }

        /// <summary>Setting a parameter the controller lacks makes Unity log every time; check once and warn once instead.</summary>
        private bool HasParameter(int hash, string parameter)
        {
            if (parameterTypes.ContainsKey(hash))
            {
                return true;
            }
            if (warnedMissing.Add(parameter))
            {
                Debug.LogWarning("[Avatar Bridge] Animator controller of " + (animator != null ? animator.name : "?") + " has no parameter '" + parameter + "'; the rule is skipped.", this);
            }
            return false;
        }

        private void IndexParameters()
        {
            if (animator == null || animator.runtimeAnimatorController == indexedController)
            {
                return;
            }
            indexedController = animator.runtimeAnimatorController;
            parameterTypes.Clear();
            warnedMissing.Clear();
            floats.Clear();
            if (indexedController == null)
            {
                return;
            }
            foreach (AnimatorControllerParameter p in animator.parameters)
            {
                parameterTypes[p.nameHash] = p.type;
            }
        }

        private int HashOf(string parameter)
        {
            int hash;
            if (!hashes.TryGetValue(parameter, out hash))
            {
                hash = Animator.StringToHash(parameter);
                hashes.Add(parameter, hash);
            }
            return hash;
        }

        private void Remember(BridgeEvent e)
        {
            recent.Enqueue(e.ToString());
            while (recent.Count > RecentCapacity)
            {
                recent.Dequeue();
            }
        }

        private static bool IsEnd(BridgeEvent e)
        {
            return string.Equals(e.State, "end", StringComparison.OrdinalIgnoreCase) || string.Equals(e.State, "stop", StringComparison.OrdinalIgnoreCase);
        }
    }
}
