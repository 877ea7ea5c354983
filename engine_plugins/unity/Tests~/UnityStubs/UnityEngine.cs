// Compile-only stand-ins for the UnityEngine API the package uses, with Unity's signatures, so CI
// can type-check every package C# file with Mono's mcs without a Unity installation. Bodies are
// placeholders: nothing here runs. Keep additions faithful to Unity 2021.3's public API; what newer
// versions add or make obsolete sits under the version define Unity sets for them.
using System;
using System.Collections.Generic;

namespace UnityEngine
{
    public class Object
    {
        public string name { get; set; }

        public static bool operator ==(Object a, Object b) { return ReferenceEquals(a, b); }

        public static bool operator !=(Object a, Object b) { return !ReferenceEquals(a, b); }

        public static implicit operator bool(Object o) { return !ReferenceEquals(o, null); }

        public override bool Equals(object other) { return ReferenceEquals(this, other); }

        public override int GetHashCode() { return 0; }

#if UNITY_2023_1_OR_NEWER
        [Obsolete("Object.FindObjectOfType has been deprecated. Use Object.FindFirstObjectByType instead or if finding any instance is acceptable the faster Object.FindAnyObjectByType")]
#endif
        public static T FindObjectOfType<T>() where T : Object { return null; }
#if UNITY_2022_3_OR_NEWER

        // From 2021.3.18 / 2022.2.5 / 2022.3 on; the test harness compiles with and without these defines.
        public static T FindAnyObjectByType<T>() where T : Object { return null; }
#endif

        public static void Destroy(Object o) { }
    }

    public class Component : Object
    {
        public GameObject gameObject { get { return null; } }

        public Transform transform { get { return null; } }

        public string tag { get; set; }

        public T GetComponent<T>() { return default(T); }

        public T GetComponentInChildren<T>() { return default(T); }

        public T[] GetComponentsInChildren<T>(bool includeInactive) { return null; }
    }

    public class Behaviour : Component
    {
        public bool enabled { get; set; }

        public bool isActiveAndEnabled { get { return true; } }
    }

    public class MonoBehaviour : Behaviour
    {
    }

    public class ScriptableObject : Object
    {
    }

    public sealed class GameObject : Object
    {
        public GameObject(string name) { }

        public GameObject(string name, params Type[] components) { }

        public Transform transform { get { return null; } }

        public string tag { get; set; }

        public T AddComponent<T>() where T : Component { return null; }

        public T GetComponent<T>() { return default(T); }

        public T GetComponentInChildren<T>() { return default(T); }

        public T[] GetComponentsInChildren<T>(bool includeInactive) { return null; }
    }

    public class Transform : Component, System.Collections.IEnumerable
    {
        public Vector3 localPosition { get; set; }

        public Quaternion localRotation { get; set; }

        public Vector3 position { get; set; }

        public Quaternion rotation { get; set; }

        public Transform parent { get; set; }

        public void SetParent(Transform p, bool worldPositionStays) { }

        public void SetPositionAndRotation(Vector3 position, Quaternion rotation) { }

        public System.Collections.IEnumerator GetEnumerator() { return null; }
    }

    public struct Vector2
    {
        public float x;
        public float y;

        public Vector2(float x, float y) { this.x = x; this.y = y; }

        public static Vector2 zero { get { return new Vector2(0, 0); } }

        public float magnitude { get { return 0; } }
    }

    public struct Vector3
    {
        public float x;
        public float y;
        public float z;

        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }

        public static Vector3 zero { get { return new Vector3(0, 0, 0); } }

        public Vector3 normalized { get { return this; } }

        public static Vector3 operator +(Vector3 a, Vector3 b) { return a; }

        public static Vector3 operator -(Vector3 a, Vector3 b) { return a; }

        public static Vector3 operator *(Vector3 a, float d) { return a; }

        public static Vector3 operator *(float d, Vector3 a) { return a; }

        public string ToString(string format) { return format; }
    }

    public struct Quaternion
    {
        public float x;
        public float y;
        public float z;
        public float w;

        public Quaternion(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }

        public static Quaternion identity { get { return new Quaternion(0, 0, 0, 1); } }

        public Vector3 eulerAngles { get { return Vector3.zero; } }

        public static Quaternion operator *(Quaternion a, Quaternion b) { return a; }

        public static Vector3 operator *(Quaternion q, Vector3 v) { return v; }

        public static Quaternion Slerp(Quaternion a, Quaternion b, float t) { return a; }

        public static Quaternion Euler(float x, float y, float z) { return identity; }

        public static Quaternion Inverse(Quaternion q) { return q; }
    }

    public struct Color
    {
        public float r;
        public float g;
        public float b;
        public float a;

        public Color(float r, float g, float b) { this.r = r; this.g = g; this.b = b; a = 1; }

        public static Color white { get { return new Color(1, 1, 1); } }
    }

    public struct Rect
    {
        public Rect(float x, float y, float width, float height) { }
    }

    public static class Mathf
    {
        public const float PI = 3.14159274f;

        public static float Clamp(float v, float min, float max) { return v; }

        public static int Clamp(int v, int min, int max) { return v; }

        public static float Clamp01(float v) { return v; }

        public static float Max(float a, float b) { return a; }

        public static float Sqrt(float f) { return f; }

        public static float Sin(float f) { return f; }

        public static float Cos(float f) { return f; }

        public static float Sign(float f) { return f; }

        public static int RoundToInt(float f) { return 0; }
    }

    public static class Time
    {
        public static float deltaTime { get { return 0; } }
    }

    public static class Application
    {
        public static bool isPlaying { get { return false; } }
    }

    public static class Debug
    {
        public static void Log(object message) { }

        public static void Log(object message, Object context) { }

        public static void LogWarning(object message) { }

        public static void LogWarning(object message, Object context) { }

        public static void LogError(object message, Object context) { }
    }

    public static class GUI
    {
        public static void Label(Rect position, string text) { }
    }

    public class GUIStyle
    {
    }

    public sealed class GUILayoutOption
    {
    }

    public static class GUILayout
    {
        public static bool Button(string text, params GUILayoutOption[] options) { return false; }
    }

    public sealed class Shader : Object
    {
        public static Shader Find(string name) { return null; }
    }

    public class Material : Object
    {
        public Material(Shader shader) { }

        public Color color { get; set; }
    }

    public sealed class Mesh : Object
    {
        public Vector3[] vertices { get; set; }

        public int subMeshCount { get; set; }

        public int blendShapeCount { get { return 0; } }

        public string GetBlendShapeName(int index) { return null; }

        public void SetTriangles(int[] triangles, int submesh) { }

        public void RecalculateNormals() { }

        public void RecalculateBounds() { }

        public void AddBlendShapeFrame(string shapeName, float frameWeight, Vector3[] deltaVertices, Vector3[] deltaNormals, Vector3[] deltaTangents) { }
    }

    public class Renderer : Component
    {
        public Material[] sharedMaterials { get; set; }
    }

    public class SkinnedMeshRenderer : Renderer
    {
        public Mesh sharedMesh { get; set; }

        public bool updateWhenOffscreen { get; set; }

        public float GetBlendShapeWeight(int index) { return 0; }

        public void SetBlendShapeWeight(int index, float value) { }
    }

    public sealed class Camera : Behaviour
    {
        public static Camera main { get { return null; } }

        public float nearClipPlane { get; set; }
    }

    public enum LightType
    {
        Spot = 0,
        Directional = 1,
        Point = 2,
    }

    public sealed class Light : Behaviour
    {
        public LightType type { get; set; }
    }

    public enum HumanBodyBones
    {
        Hips = 0, LeftUpperLeg = 1, RightUpperLeg = 2, LeftLowerLeg = 3, RightLowerLeg = 4, LeftFoot = 5, RightFoot = 6,
        Spine = 7, Chest = 8, Neck = 9, Head = 10, LeftShoulder = 11, RightShoulder = 12, LeftUpperArm = 13, RightUpperArm = 14,
        LeftLowerArm = 15, RightLowerArm = 16, LeftHand = 17, RightHand = 18, LeftToes = 19, RightToes = 20, LeftEye = 21, RightEye = 22,
        Jaw = 23, LeftThumbProximal = 24, LeftThumbIntermediate = 25, LeftThumbDistal = 26, LeftIndexProximal = 27,
        LeftIndexIntermediate = 28, LeftIndexDistal = 29, LeftMiddleProximal = 30, LeftMiddleIntermediate = 31, LeftMiddleDistal = 32,
        LeftRingProximal = 33, LeftRingIntermediate = 34, LeftRingDistal = 35, LeftLittleProximal = 36, LeftLittleIntermediate = 37,
        LeftLittleDistal = 38, RightThumbProximal = 39, RightThumbIntermediate = 40, RightThumbDistal = 41, RightIndexProximal = 42,
        RightIndexIntermediate = 43, RightIndexDistal = 44, RightMiddleProximal = 45, RightMiddleIntermediate = 46, RightMiddleDistal = 47,
        RightRingProximal = 48, RightRingIntermediate = 49, RightRingDistal = 50, RightLittleProximal = 51, RightLittleIntermediate = 52,
        RightLittleDistal = 53, UpperChest = 54, LastBone = 55,
    }

    public struct SkeletonBone
    {
        public string name;
        public Vector3 position;
        public Quaternion rotation;
        public Vector3 scale;
    }

    public struct HumanDescription
    {
        public SkeletonBone[] skeleton;
    }

    public class Avatar : Object
    {
        public bool isHuman { get { return false; } }

        public HumanDescription humanDescription { get { return default(HumanDescription); } }
    }

    public class RuntimeAnimatorController : Object
    {
    }

    public enum AnimatorControllerParameterType
    {
        Float = 1,
        Int = 3,
        Bool = 4,
        Trigger = 9,
    }

    public class AnimatorControllerParameter
    {
        public string name { get { return null; } }

        public int nameHash { get { return 0; } }

        public AnimatorControllerParameterType type { get { return AnimatorControllerParameterType.Float; } }
    }

    public class Animator : Behaviour
    {
        public bool isHuman { get { return false; } }

        public Avatar avatar { get; set; }

        public RuntimeAnimatorController runtimeAnimatorController { get; set; }

        public AnimatorControllerParameter[] parameters { get { return null; } }

        public Transform GetBoneTransform(HumanBodyBones humanBoneId) { return null; }

        public void SetTrigger(int id) { }

        public void SetBool(int id, bool value) { }

        public void SetInteger(int id, int value) { }

        public void SetFloat(int id, float value) { }

        public static int StringToHash(string name) { return 0; }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute
    {
        public TooltipAttribute(string tooltip) { }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class RangeAttribute : Attribute
    {
        public RangeAttribute(float min, float max) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DefaultExecutionOrder : Attribute
    {
        public DefaultExecutionOrder(int order) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class AddComponentMenu : Attribute
    {
        public AddComponentMenu(string menuName) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class CreateAssetMenuAttribute : Attribute
    {
        public string menuName { get; set; }

        public string fileName { get; set; }
    }
}

namespace UnityEngine.Events
{
    public class UnityEvent
    {
        public void Invoke() { }

        public void AddListener(Action call) { }
    }
}
